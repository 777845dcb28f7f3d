import type { NextFunction, Request, Response } from 'express';

/** Why a request left a line without being let through. */
export type Turned = 'full' | 'waited too long';

/**
 * `limit` requests let through at once, the others waiting in arrival order
 * (the bulk lane, the per-caller slots). A request holds its slot until its
 * handler has answered, not until its client has gone: a client that hangs up
 * and sends again must not get a second run beside the first, whose handler
 * still works. Every handler (Apollo, the routes, express's error handler)
 * ends its response, even on a closed socket, or destroys it (a download
 * cut mid-way); a client gone before its whole body arrived gets no
 * handler, and frees its slot then. A client that gives
 * up while waiting leaves the line, its response destroyed (what it holds
 * in a line around this one is freed with it).
 */
export class AdmissionLine {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  /** `onIdle`: called when nothing runs or waits any more (a keyed set of lines drops this one). */
  constructor(
    private readonly limit: number,
    private readonly onIdle?: () => void,
  ) {}

  /**
   * Calls `next` now or once a slot is free. With `maxWaiting`, a request
   * finding that many already waiting is turned away at once; with
   * `maxWaitMs`, one that waited that long is. `turned` answers it.
   */
  enter(req: Request, res: Response, next: NextFunction, turned?: (why: Turned) => void, bounds: { maxWaiting?: number; maxWaitMs?: number } = {}): void {
    const admit = () => {
      // Its client left while it waited and the line moved on in the same tick: pass the slot on (and end it, as `gone`).
      if (req.destroyed) {
        res.destroy();
        return this.release();
      }
      this.hold(req, res);
      next();
    };
    if (this.running < this.limit) {
      this.running++;
      return admit();
    }
    if (bounds.maxWaiting !== undefined && this.waiting.length >= bounds.maxWaiting) return turned?.('full');
    let timer: NodeJS.Timeout | undefined;
    const leave = () => {
      clearTimeout(timer);
      const index = this.waiting.indexOf(waiter);
      if (index >= 0) this.waiting.splice(index, 1);
      if (this.running === 0 && this.waiting.length === 0) this.onIdle?.();
    };
    // Its client left: the request is over. Its response is destroyed, as a handler would, so that a line it already
    // holds a slot of (a caller's slots around the download lane) frees it too: no handler ever answers a request that
    // left a line, and a GET whose body was whole is not freed by its closing (hold).
    const gone = () => {
      leave();
      res.destroy();
    };
    const waiter = () => {
      clearTimeout(timer);
      req.off('close', gone);
      admit();
    };
    this.waiting.push(waiter);
    req.once('close', gone);
    if (bounds.maxWaitMs !== undefined) {
      timer = setTimeout(() => {
        req.off('close', gone);
        leave();
        turned?.('waited too long');
      }, bounds.maxWaitMs);
      timer.unref();
    }
  }

  /** Frees the slot once the handler has answered or cut its answer (or the client left before its body was whole). */
  private hold(req: Request, res: Response): void {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.release();
    };
    const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
    res.end = ((...args: unknown[]) => {
      finish();
      return end(...args);
    }) as typeof res.end;
    // A download cut by the server (its client hung up or stopped reading) is answered by destroying its response, never
    // ended: without this its slot was held for good, and two cut downloads locked their caller out until a restart.
    // Node itself never destroys a response whose client left, so a handler still at work keeps its slot.
    const destroy = res.destroy.bind(res) as (...args: unknown[]) => typeof res;
    res.destroy = ((...args: unknown[]) => {
      finish();
      return destroy(...args);
    }) as typeof res.destroy;
    res.once('finish', finish);
    res.once('close', () => {
      if (!req.complete) finish();
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) return next();
    this.running--;
    if (this.running === 0) this.onIdle?.();
  }
}
