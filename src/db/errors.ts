/**
 * Which errors mean "the database could not be reached or did not answer in time", as opposed to
 * a query that Postgres refused. The first are the platform's fault and temporary: the caller
 * gets 503 with Retry-After (DATABASE_UNAVAILABLE), never a 500. Both transports of the Neon
 * driver are covered: the WebSocket Pool (pg's errors) and the HTTP mode (NeonDbError).
 */

/**
 * SQLSTATEs that say the server had no room or no time for us: connection exceptions (08), too
 * many connections or out of resources (53), shutting down or not accepting yet (57P01–57P03),
 * a statement or lock timeout (57014, 55P03).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|53...|57P0[1-3]|57014|55P03)$/;

/** What the drivers and the runtime say when the connection itself failed or timed out. */
const CONNECTION_MESSAGE = new RegExp(
  [
    "timeout exceeded when trying to connect", // pg-pool: no connection within connectionTimeoutMillis
    "connection terminated", // pg: the socket closed (…unexpectedly, …due to connection timeout)
    "connection error and is not queryable",
    "query read timeout",
    "error connecting to database", // Neon HTTP: fetch itself failed
    "server error \\(http status 5\\d\\d\\)", // Neon HTTP: the endpoint or its pooler failed
    "websocket (?:error|closed|connection)",
    "econnrefused",
    "econnreset",
    "etimedout",
    "epipe",
    "socket hang up",
    "network connection lost",
    "too many clients",
    "too many connections",
  ].join("|"),
  "i",
);

interface ErrorFields {
  type?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  sourceError?: unknown;
  error?: unknown;
}

function isUnavailable(error: ErrorFields): boolean {
  // The WebSocket transport rejects with the socket's ErrorEvent itself, not an Error.
  if (!(error instanceof Error) && error.type === "error") return true;
  if (typeof error.code === "string" && UNAVAILABLE_SQLSTATE.test(error.code)) return true;
  // A NeonDbError with a SQLSTATE is Postgres answering; without one it is the transport.
  const message = typeof error.message === "string" ? error.message : "";
  return CONNECTION_MESSAGE.test(message);
}

/**
 * True when `error`, or anything it wraps (drizzle's `cause`, the HTTP driver's `sourceError`, an
 * ErrorEvent's `error`), is a connection-level failure of the database rather than an answer.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    const fields = current as ErrorFields;
    if (isUnavailable(fields)) return true;
    current = fields.cause ?? fields.sourceError ?? fields.error;
  }
  return false;
}
