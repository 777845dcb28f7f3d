import type { RequestHandler } from 'express';
import { refuse } from './caller';

/**
 * How fast a request body must arrive. A sender that announces a large body
 * and trickles it (a byte every ten seconds) would otherwise hold a bulk
 * slot, a socket and a parser for as long as it likes.
 */
export interface BodyRate {
  /** Fewest bytes a second, averaged over each window. */
  minBytesPerSecond: number;
  /** The window the rate is measured over, in milliseconds. */
  windowMs: number;
  /** The whole body must have arrived this long after it started to be read, in milliseconds. */
  timeoutMs: number;
}

/** 8 KiB/s is a slow mobile link; a 60 MB upload at the two-minute limit needs 0.5 MB/s, any office network. */
export const DEFAULT_BODY_RATE: BodyRate = { minBytesPerSecond: 8 * 1024, windowMs: 10_000, timeoutMs: 120_000 };

const hasBody = (req: { headers: Record<string, unknown>; method: string }) =>
  req.method !== 'GET' && req.method !== 'HEAD' && (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0);

/**
 * Ends a request whose body does not keep arriving at `minBytesPerSecond`
 * (measured on its socket over each `windowMs`), or has not arrived whole
 * within `timeoutMs`, with 408 and a closed connection; the bulk lane's slot
 * is freed with the answer. Placed after the bulk lane, the clock starts
 * when the body is admitted to be read, not while it waits in line.
 */
export function bodyRate(rate: BodyRate = DEFAULT_BODY_RATE): RequestHandler {
  const minPerWindow = Math.ceil((rate.minBytesPerSecond * rate.windowMs) / 1000);
  return (req, res, next) => {
    if (!hasBody(req) || req.complete) return next();
    const socket = req.socket;
    let lastBytes = socket.bytesRead;
    const stop = () => {
      clearInterval(window);
      clearTimeout(overall);
    };
    const expire = (message: string) => {
      stop();
      if (req.complete) return;
      refuse(req, res, 408, 'REQUEST_TIMEOUT', message, { close: true });
    };
    const window = setInterval(() => {
      const bytes = socket.bytesRead;
      if (bytes - lastBytes < minPerWindow) {
        expire(
          `The request body arrived too slowly (${Math.round(((bytes - lastBytes) * 1000) / rate.windowMs)} bytes/s over ${rate.windowMs / 1000} s; at least ${rate.minBytesPerSecond} bytes/s). Send it again over a faster connection.`,
        );
      }
      lastBytes = bytes;
    }, rate.windowMs);
    const overall = setTimeout(
      () => expire(`The request body did not arrive within ${rate.timeoutMs / 1000} s. Send it again over a faster connection, or in smaller parts.`),
      rate.timeoutMs,
    );
    window.unref();
    overall.unref();
    req.once('end', stop);
    req.once('close', stop);
    res.once('close', stop);
    next();
  };
}
