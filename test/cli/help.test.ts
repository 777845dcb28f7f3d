import { runCommand } from '../../src/cli/cli-support';

/**
 * `npm run export -- --help` prints the usage and opens no database: before,
 * --help was an unknown option, refused only after the command had started
 * the embedded PostgreSQL, which fails while `npm start` holds its folder.
 */
describe('commands: --help', () => {
  const saved = { url: process.env.DATABASE_URL, exitCode: process.exitCode };
  beforeAll(() => {
    // Unreachable: a command that opened a database would fail here, not start an embedded one.
    process.env.DATABASE_URL = 'postgres://mulu:mulu@127.0.0.1:1/none';
  });
  afterAll(() => {
    process.env.DATABASE_URL = saved.url;
    process.exitCode = saved.exitCode;
  });

  it.each([['--help'], ['-h'], ['--region', '410505', '--help']].map((argv) => [argv.join(' '), argv] as const))(
    '%s: the usage on stdout, the command not run, exit code untouched',
    async (_, argv) => {
      const written: string[] = [];
      const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => written.push(String(chunk)) > 0);
      const command = jest.fn(() => Promise.resolve());
      process.exitCode = undefined;
      try {
        await runCommand('Usage: npm run export -- --region 410505 ...', command, argv);
      } finally {
        write.mockRestore();
      }
      expect(command).not.toHaveBeenCalled();
      expect(written.join('')).toBe('Usage: npm run export -- --region 410505 ...\n');
      expect(process.exitCode).toBeUndefined();
    },
  );
});
