import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestListener, type GraphQLResponse } from '@apollo/server';
import type { Request, RequestHandler } from 'express';
import { TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type FormattedExecutionResult, type GraphQLSchema } from 'graphql';
import { currentClockReads, withClockReads } from '../db/clock-reads';
import type { Viewer } from '../core/viewer';
import { plainAnswerContentType, plainGraphQLRequest, sendAnswer } from './direct-answer';
import { currentObservation, operationNameOf } from '../observability/request-observation';
import type { MuluContext } from './context';
import { jsonSizeUpTo } from './execution-budget';
import type { DatabaseMoment, SnapshotSource } from './snapshot-source';

/** Response header of every query the cache saw: HIT (answered from it) or MISS (computed). */
export const RESPONSE_CACHE_HEADER = 'x-mulu-response-cache';

/** Default memory for stored answers: a province dashboard is about 200 KB of text, counted as 400 KB (2 bytes a character). */
export const DEFAULT_RESPONSE_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * The longest request the cache keys (document and variables, in characters): a dashboard's
 * document is a few KB. A larger one (a megabyte of search text, thousands of aliases) is
 * computed as with no-cache, so that it costs no key the size of the request, no snapshot
 * statements and no room among the stored answers.
 */
export const MAX_CACHED_REQUEST_CHARS = 64 * 1024;

/**
 * The field extension that says a field's answers are never stored: each
 * request that selects it is work the cache must not skip (a delivery that
 * is logged and counted) and whose answer depends on the clock undated (a
 * grant lapses). An operation selecting one costs the cache nothing: no
 * snapshot statement, no key, no text kept. Set it with type-graphql's
 * `@Extensions(NEVER_CACHED)`.
 */
export const NEVER_CACHED = { responseCache: 'never' } as const;

/** Whether `document` selects a field marked NEVER_CACHED anywhere (fragments included), by document: Apollo reuses a parsed document's object. */
const selectsNeverCached = new WeakMap<DocumentNode, boolean>();

function selectsNeverCachedField(schema: GraphQLSchema, document: DocumentNode): boolean {
  let found = selectsNeverCached.get(document);
  if (found !== undefined) return found;
  found = false;
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field() {
        if (typeInfo.getFieldDef()?.extensions?.responseCache === NEVER_CACHED.responseCache) {
          found = true;
          return false;
        }
        return undefined;
      },
    }),
  );
  selectsNeverCached.set(document, found);
  return found;
}

/**
 * The snapshot the direct path took for a request it could not answer
 * (the stored answer was retired), by the request's clock record: the
 * plugin uses it instead of taking another. Taken before anything of the
 * request was computed, so it is as good as one taken later.
 */
const momentsTaken = new WeakMap<object, DatabaseMoment>();

/**
 * The cache's key of a request: the caller, the operation's name, its
 * variables and its document. The first three as one JSON array, so that no
 * two different requests share a key (an empty operation name is not an
 * absent one; a name cannot run into the variables).
 */
function cacheKey(viewer: Viewer | null | undefined, operationName: string | null | undefined, variables: unknown, source: string): string {
  return `${JSON.stringify([viewer ?? null, operationName ?? null, variables ?? {}])}\n${source}`;
}

/**
 * Whether JSON text says exactly what the variables hold: a number too large
 * for a double (1e400) parses to Infinity, which JSON writes as null, so
 * `{"first": 1e400}` (refused by GraphQL) would share the key of
 * `{"first": null}`. Such a request is not keyed.
 */
function faithfulAsJson(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(faithfulAsJson);
  for (const key in value) if (!faithfulAsJson((value as Record<string, unknown>)[key])) return false;
  return true;
}

/** What the direct path (`ResponseCache.direct`) needs of the app. */
export interface DirectOptions {
  /** Who sent the request, as the HTTP layer worked it out (http/caller.ts); a refusal goes on to Apollo, which answers it. */
  identify(req: Request): Promise<Viewer | null>;
  /** How long the answer may send nothing before it is cut (http/send-stall.ts). */
  stallMs: number;
  /** Headers every GraphQL answer carries besides the cache's (the statement counter's), for the request being served. */
  headers?: () => Iterable<[string, string]>;
}

/** What a request's key would hold, in characters, counted up to just past MAX_CACHED_REQUEST_CHARS (a 20 MB operation name is not measured in full, nor keyed). */
function requestChars(source: string, operationName: string | null | undefined, variables: unknown): number {
  const named = source.length + (operationName?.length ?? 0);
  return named > MAX_CACHED_REQUEST_CHARS ? named : named + jsonSizeUpTo(variables ?? {}, MAX_CACHED_REQUEST_CHARS);
}

/** Whether the cache keys a request at all: small enough, and its variables said exactly by JSON. */
const keyable = (source: string, operationName: string | null | undefined, variables: unknown) =>
  requestChars(source, operationName, variables) <= MAX_CACHED_REQUEST_CHARS && faithfulAsJson(variables);

/**
 * The UTF-8 of a stored answer in memory of its own. `Buffer.from` puts a
 * short text (under 4 KB) in a slice of a shared 8 KB block, which the
 * stored answer would keep alive whole: thousands of small answers would
 * hold several times the memory the cache counts.
 */
function ownBytes(text: string): Buffer {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'utf8'));
  bytes.write(text, 'utf8');
  return bytes;
}

const asksNoCache = (cacheControl: string | null | undefined) => /\bno-cache\b/i.test(cacheControl ?? '');

interface StoredAnswer {
  /** The snapshot the answer was computed on. */
  snapshot: string;
  /** First moment (database clock, epoch ms) the clock may have changed the answer. */
  validUntil: number;
  /** The response body exactly as sent, as UTF-8 (the text itself is not kept: the direct path sends the bytes). */
  bytes: Buffer;
  /** What the request that computed it named its operation (the log line and metrics of a direct answer). */
  operation: string;
}

/** Stands in for `data` in an answer taken from the cache, so that `stringifyResult` sends the stored text unchanged. */
class CachedBody {
  constructor(readonly body: string) {}
}

/**
 * The check a request's answer gets after it was computed (one statement),
 * by request context: the SQL statement counter waits for it so that it
 * counts every statement of the request.
 */
const lastStatements = new WeakMap<object, Promise<void>>();

/** Resolves once the response cache has sent its last statement for this request (at once if it sends none). */
export async function responseCacheSettled(context: object): Promise<void> {
  await lastStatements.get(context)?.catch(() => undefined);
}

/** Counts since start, for tests and operators. */
export interface ResponseCacheStats {
  /** Answers served from the cache, `shared` and `direct` included. */
  hits: number;
  /** Answers sent by the direct path, before Apollo parsed anything. */
  direct: number;
  /** Answers another request was computing at the same moment, waited for instead of computed again. */
  shared: number;
  /** Requests waiting for an answer another is computing, now. */
  waiting: number;
  misses: number;
  stored: number;
  entries: number;
  bytes: number;
}

/** Answers being computed: identical requests on one snapshot wait for the first instead of computing it again. */
class AnswersInFlight {
  private readonly computing = new Map<string, { snapshot: string; done: Promise<StoredAnswer | null>; finish(answer: StoredAnswer | null): void }>();

  /** The computation under way for `key` on `snapshot`, if any. */
  running(key: string, snapshot: string): Promise<StoredAnswer | null> | undefined {
    const entry = this.computing.get(key);
    return entry?.snapshot === snapshot ? entry.done : undefined;
  }

  /** Marks `key` as being computed on `snapshot`; `finish` hands its answer (or null) to those waiting. */
  start(key: string, snapshot: string): { finish(answer: StoredAnswer | null): void } {
    let finish!: (answer: StoredAnswer | null) => void;
    const done = new Promise<StoredAnswer | null>((resolve) => (finish = resolve));
    const entry = {
      snapshot,
      done,
      finish: (answer: StoredAnswer | null) => {
        if (this.computing.get(key) === entry) this.computing.delete(key);
        finish(answer);
      },
    };
    this.computing.set(key, entry);
    return entry;
  }
}

/**
 * The stored answers, all of one snapshot, least recently used first, within
 * `maxBytes`. A snapshot never comes back once a later one exists, so
 * answers of any other snapshot than the latest seen are dead. (Two requests'
 * snapshots can arrive out of order; clearing then costs at most a
 * recomputation.)
 */
class StoredAnswers {
  private readonly answers = new Map<string, StoredAnswer>();
  private newestSnapshot = '';
  bytes = 0;
  stored = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): number {
    return this.answers.size;
  }

  /** The body's bytes, two bytes a character of the other texts at most, and about 300 bytes of map slot and objects an answer. */
  private sizeOf(key: string, answer: StoredAnswer): number {
    return answer.bytes.length + 2 * (key.length + answer.snapshot.length + answer.operation.length) + 300;
  }

  has(key: string): boolean {
    return this.answers.has(key);
  }

  /** A request saw `snapshot`: when it is new, every stored answer is dead. */
  see(snapshot: string): void {
    if (snapshot === this.newestSnapshot) return;
    this.newestSnapshot = snapshot;
    this.answers.clear();
    this.bytes = 0;
  }

  /** The answer stored for `key`, made the most recently used. */
  take(key: string): StoredAnswer | undefined {
    const answer = this.answers.get(key);
    if (answer) {
      this.answers.delete(key);
      this.answers.set(key, answer);
    }
    return answer;
  }

  remove(key: string): void {
    const answer = this.answers.get(key);
    if (!answer) return;
    this.answers.delete(key);
    this.bytes -= this.sizeOf(key, answer);
  }

  store(key: string, answer: StoredAnswer): void {
    const size = this.sizeOf(key, answer);
    if (size > this.maxBytes / 4 || answer.snapshot !== this.newestSnapshot) return;
    this.remove(key);
    this.answers.set(key, answer);
    this.bytes += size;
    this.stored++;
    // Least recently used first: Map keeps insertion order, and a hit re-inserts.
    for (const oldest of this.answers.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.remove(oldest);
    }
  }
}

/**
 * Answers to read-only operations, reused while they are exactly right.
 *
 * A query's answer is a function of the database's visible data, the caller,
 * the document with its variables, and (for a few fields) the clock. The
 * cache keys an answer by caller, document and variables, and stores with it
 * the database snapshot it was computed on. A later identical request takes
 * the current snapshot (one statement) and gets the stored answer only when
 * the snapshot is the same, i.e. no transaction has committed since, and the
 * clock has not passed the moment the answer was dated to (clock-reads.ts).
 * An answer is stored only when the snapshot was the same before and after
 * it was computed, so every statement behind it saw that one state, and only
 * without errors. There is no expiry to tune and nothing to invalidate: any
 * write anywhere retires every stored answer, so the cache helps a dashboard
 * read many times between writes, and costs two statements (the snapshot
 * before and after) on an answer it must compute.
 *
 * Mutations, subscriptions, answers with errors and answers that read the
 * clock without dating it are never stored; operations selecting a field
 * marked NEVER_CACHED are not even looked up (no statement). A request with the header
 * `Cache-Control: no-cache` is computed afresh and costs the cache nothing
 * (no statement, no text stored).
 */
export function createResponseCache(snapshots: SnapshotSource, maxBytes: number = DEFAULT_RESPONSE_CACHE_BYTES) {
  const answers = new StoredAnswers(maxBytes);
  const inFlight = new AnswersInFlight();
  const stats = { hits: 0, misses: 0, shared: 0, waiting: 0, direct: 0 };
  /** Answers to store, by their `data` object, with their text (stringifyResult sends it). */
  const toStore = new WeakMap<object, { key: string; answer: StoredAnswer; text: string }>();
  const cachedResponse = (answer: StoredAnswer): GraphQLResponse => ({
    http: { status: undefined, headers: new HeaderMap([[RESPONSE_CACHE_HEADER, 'HIT']]) },
    // Through Apollo (a request the direct path left to it) the stored bytes are made text again: the rarer path pays.
    body: { kind: 'single', singleResult: { data: new CachedBody(answer.bytes.toString('utf8')) as never } },
  });

  const plugin: ApolloServerPlugin<MuluContext> = {
    async requestDidStart(): Promise<GraphQLRequestListener<MuluContext>> {
      let pending: { key: string; snapshot: string; flight?: ReturnType<AnswersInFlight['start']> } | undefined;
      /** Asked for with no-cache: computed afresh with no work for the cache at all, only its header. */
      let fresh = false;
      return {
        async responseForOperation({ operation, source, request, contextValue, schema, document }) {
          const clock = currentClockReads();
          if (operation?.operation !== 'query' || !clock || maxBytes <= 0) return null;
          // A field that is never stored (a page of delivered rows): the snapshot statement would buy nothing.
          if (selectsNeverCachedField(schema, document)) {
            fresh = true;
            stats.misses++;
            return null;
          }
          // A client asking for no-cache gets the answer computed afresh, and the cache does nothing for it: no
          // snapshot statements, no key, no text kept. (Storing it for the next caller would cost those two
          // statements on every such request, the computed path's only cost of the cache.) What is stored stays
          // as it is: an answer still valid for its snapshot is exactly as right as before the fresh one was computed.
          if (asksNoCache(request.http?.headers.get('cache-control')) || !keyable(source, request.operationName, request.variables)) {
            fresh = true;
            stats.misses++;
            return null;
          }
          const key = cacheKey(contextValue.viewer, request.operationName, request.variables, source);
          const moment = momentsTaken.get(clock) ?? (await snapshots.moment().catch(() => null));
          // The cache must never fail a request it could not help: computed as without it, and not stored.
          if (!moment) return null;
          answers.see(moment.snapshot);
          const answer = answers.take(key);
          if (answer && answer.snapshot === moment.snapshot && moment.now < answer.validUntil) {
            stats.hits++;
            return cachedResponse(answer);
          }
          // An identical request on the same snapshot waits for the one under way: after a commit retires every
          // answer, ten dashboards asking at once cost one computation.
          const running = inFlight.running(key, moment.snapshot);
          if (running) {
            stats.waiting++;
            const shared = await running.finally(() => stats.waiting--);
            if (shared && moment.now < shared.validUntil) {
              stats.hits++;
              stats.shared++;
              return cachedResponse(shared);
            }
          }
          stats.misses++;
          answers.remove(key);
          const flight = running ? undefined : inFlight.start(key, moment.snapshot);
          pending = { key, snapshot: moment.snapshot, flight };
          // From here on, a statement reading the clock without saying until when makes the answer undated.
          clock.watching = true;
          return null;
        },
        async willSendResponse({ response, contextValue, operation, operationName }) {
          if (fresh) response.http.headers.set(RESPONSE_CACHE_HEADER, 'MISS');
          if (!pending) return;
          const computed = pending;
          let stored: StoredAnswer | null = null;
          try {
            response.http.headers.set(RESPONSE_CACHE_HEADER, 'MISS');
            const clock = currentClockReads();
            const body = response.body;
            if (!clock || clock.undated || body.kind !== 'single' || body.singleResult.errors?.length || !body.singleResult.data) return;
            const result = body.singleResult;
            const check = (async () => {
              const after = await snapshots.moment().catch(() => null);
              if (after?.snapshot !== computed.snapshot || after.now >= clock.validUntil) return;
              // The text Apollo would send (runHttpQuery: errors, data, extensions in that order), made once for everyone.
              const text = JSON.stringify({ errors: result.errors, data: result.data, extensions: result.extensions }) + '\n';
              stored = {
                snapshot: computed.snapshot,
                validUntil: clock.validUntil,
                bytes: ownBytes(text),
                operation: operationNameOf(operationName, operation),
              };
              toStore.set(result.data!, { key: computed.key, answer: stored, text });
            })();
            lastStatements.set(contextValue, check);
            await check;
          } finally {
            // Requests waiting for this answer get it, or compute their own.
            computed.flight?.finish(stored);
          }
        },
      };
    },
  };

  /** Apollo's `stringifyResult`: sends a stored answer's text as it is, and stores the text of an answer marked for it. */
  const stringifyResult = (value: FormattedExecutionResult): string => {
    if (value.data instanceof CachedBody) return value.data.body;
    const marked = value.data ? toStore.get(value.data) : undefined;
    if (!marked) return JSON.stringify(value) + '\n';
    answers.store(marked.key, marked.answer);
    return marked.text;
  };

  /**
   * Express middleware, just before Apollo: sends a stored answer to a request
   * that asks exactly what it answers, without Apollo. A repeated dashboard
   * request would otherwise pay for all of Apollo's pipeline (the document's
   * hash and cached parse, the context, a dozen plugins' hooks, the
   * operation's checks) only to reach the same lookup; here it costs the
   * caller's identity (already worked out by the rate limit), the key, the
   * snapshot statement and the write. Everything those stages would decide
   * is decided by what the key holds: the caller, the document, its
   * variables and its operation's name (the answer was stored only after
   * they had all passed, and the checks depend on nothing else), or was
   * decided before this middleware (rate limit, caller slots, draining).
   * Anything it does not recognise as plainly the same request goes on to
   * Apollo untouched: a GET, another content type or `Accept` header, an
   * `extensions` member, no-cache, a caller whose token fails (Apollo
   * answers 401 with its reason). When an answer is stored under the key but
   * retired, the snapshot it took is handed to the plugin, so a request
   * costs the same statements whichever way it goes.
   */
  const direct = (options: DirectOptions): RequestHandler =>
    async function serveStoredAnswer(req, res, next) {
      const clock = currentClockReads();
      const contentType = asksNoCache(req.headers['cache-control']) ? undefined : plainAnswerContentType(req);
      const request = plainGraphQLRequest(req.body);
      if (maxBytes <= 0 || !clock || contentType === undefined || !request) return next();
      const { query, operationName, variables } = request;
      if (!keyable(query, operationName, variables)) return next();
      let viewer: Viewer | null;
      try {
        viewer = await options.identify(req);
      } catch {
        return next();
      }
      const key = cacheKey(viewer, operationName, variables, query);
      if (!answers.has(key)) return next();
      const moment = await snapshots.moment().catch(() => null);
      if (!moment) return next();
      answers.see(moment.snapshot);
      const answer = answers.take(key);
      if (!answer || answer.snapshot !== moment.snapshot || moment.now >= answer.validUntil) {
        momentsTaken.set(clock, moment);
        return next();
      }
      stats.hits++;
      stats.direct++;
      const observation = currentObservation();
      if (observation) observation.operation = answer.operation;
      sendAnswer(res, 200, contentType, [[RESPONSE_CACHE_HEADER, 'HIT'], ...(options.headers?.() ?? [])], answer.bytes, options.stallMs);
    };

  /** Express middleware: gives each request its record of clock reads (clock-reads.ts). */
  const middleware: RequestHandler = (_req, _res, next) => withClockReads(next);

  return {
    plugin,
    stringifyResult,
    middleware,
    direct,
    stats: (): ResponseCacheStats => ({ ...stats, stored: answers.stored, entries: answers.size, bytes: answers.bytes }),
    close: () => snapshots.close(),
  };
}

export type ResponseCache = ReturnType<typeof createResponseCache>;
