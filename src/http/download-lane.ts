import type { RequestHandler } from 'express';
import { AdmissionLine } from './admission-line';

/**
 * Whole-dataset downloads streamed at once per server process: 4 of the
 * pool's 10 connections (src/mikro-orm.config.ts), leaving the rest to
 * GraphQL, the two loads of the bulk lane and the background jobs.
 */
export const DOWNLOAD_CONCURRENCY = 4;

/**
 * Admission control for downloads (GET /directories/{code}/rows.csv and
 * .ndjson). Each streams from one COPY in one transaction on a pooled
 * connection for as long as its client takes to read it, and a slow reader
 * is never cut (only one that stopped: send-stall.ts). Let in without a
 * bound, ten slow downloads of ten callers held the whole pool, and every
 * GraphQL request waited for a connection in vain (503 after 10 s). So at
 * most `limit` stream at once; later ones wait, in arrival order, holding
 * only their socket, and a client that gives up leaves the line.
 */
export function downloadLane(limit = DOWNLOAD_CONCURRENCY): RequestHandler {
  const line = new AdmissionLine(limit);
  return (req, res, next) => line.enter(req, res, next);
}
