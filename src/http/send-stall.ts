import type { Response } from 'express';

/**
 * How long an answer may go without sending anything (its client stopped
 * reading: TCP is full) before its connection is closed. Every byte that
 * leaves restarts the wait, so a slow reader is never cut, only one that
 * stopped.
 */
export const DEFAULT_SEND_STALL_MS = 60_000;

/**
 * Closes the connection of `res` once nothing was sent (or received) on it
 * for `stallMs` (the socket's inactivity timeout). What the answer still
 * held (the unsent part of a GraphQL answer, a dataset download's COPY and
 * its transaction) is released with it. After the answer is sent, Node
 * replaces the timeout with its keep-alive one.
 */
export function cutWhenStalled(res: Response, stallMs: number): void {
  res.setTimeout(stallMs, () => res.destroy());
}
