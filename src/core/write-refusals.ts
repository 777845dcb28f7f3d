/**
 * Whether the database took this process's last write: set by the pool's
 * connections (mikro-orm.config.ts) when PostgreSQL refused one because it
 * takes no writes (read-only, disk full: WRITES_REFUSED_STATES), cleared by
 * the next write it took. Readiness reports it (`checks.writes`): a request's
 * 503 tells its caller, this tells the operator looking at the health check.
 */
let refused: { since: Date; reason: string } | null = null;

export const writeRefusals = {
  refused(reason: string): void {
    refused ??= { since: new Date(), reason };
  },
  taken(): void {
    refused = null;
  },
  /** Since when, and why, writes are refused; null when the last write was taken. */
  current(): { since: Date; reason: string } | null {
    return refused;
  },
};
