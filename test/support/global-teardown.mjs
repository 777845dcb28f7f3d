export default async function globalTeardown() {
  await globalThis.__MULU_PG__?.stop();
}
