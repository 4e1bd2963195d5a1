import http from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { errorMessage } from "../../src/lib/error-message.ts";

/**
 * Neon's SQL-over-HTTP protocol, served locally so the driver's HTTP mode (`neon()` and
 * `sql.transaction([...])`) runs unchanged against a local Postgres or PGlite. It speaks what
 * @neondatabase/serverless 1.x sends and reads:
 *
 * - `POST /sql`, the target in `Neon-Connection-String`, a body of `{query, params}` or, for a
 *   batch, `{queries: [{query, params}, …]}` with the `Neon-Batch-*` headers;
 * - answers `{fields, rows, command, rowCount, rowAsArray}` (or `{results: [...]}` for a batch)
 *   with every value as Postgres's text and each field's `dataTypeID`, so the driver's own type
 *   parsers turn them into numbers, Dates, objects…;
 * - a Postgres error is a 400 whose JSON carries `message` and the fields the driver copies onto
 *   NeonDbError (`code` is the SQLSTATE, `constraint`, `detail`, …).
 */
export interface NeonHttpServer {
  port: number;
  close(): Promise<void>;
}

export interface NeonHttpOptions {
  port?: number;
  host?: string;
  /** Connections per target database; more requests wait their turn (FIFO), as at a pooler. */
  maxConnectionsPerDatabase?: number;
}

/** What each target database gets unless told otherwise. */
export const DEFAULT_HTTP_POOL_SIZE = 8;

// The server runs SQL on whatever database the request names, so it must never become an open
// proxy: only targets on the loopback interface are served.
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1"]);
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** The fields NeonDbError copies from the error JSON (the driver's own list). */
const ERROR_FIELDS = [
  "severity",
  "code",
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "where",
  "schema",
  "table",
  "column",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
] as const;

const ISOLATION_LEVELS: Record<string, string> = {
  ReadUncommitted: "READ UNCOMMITTED",
  ReadCommitted: "READ COMMITTED",
  RepeatableRead: "REPEATABLE READ",
  Serializable: "SERIALIZABLE",
};

// Values travel as Postgres's text; parsing them is the driver's job, keyed by dataTypeID.
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

interface SqlQuery {
  query: string;
  params: unknown[];
}

/** A refusal of the request itself (not Postgres's): sent as `{message}` with this status. */
class RequestError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function parseTarget(connectionString: string | undefined): pg.PoolConfig & { key: string } {
  if (!connectionString) throw new RequestError(400, "missing Neon-Connection-String header");
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    throw new RequestError(400, "Neon-Connection-String is not a valid URL");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new RequestError(400, "Neon-Connection-String must be a postgres:// URL");
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new RequestError(403, `this local endpoint serves loopback databases only, not ${host}`);
  }
  const target = {
    host,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)),
  };
  // Query parameters (the driver's application_name, an sslmode copied from Neon) are left out:
  // loopback Postgres speaks plain TCP, and one pool serves a database whatever the client says.
  return { ...target, key: JSON.stringify(target) };
}

function parseBody(raw: string): SqlQuery | SqlQuery[] {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new RequestError(400, "the body is not JSON");
  }
  const asQuery = (value: unknown): SqlQuery => {
    const q = value as Partial<SqlQuery> | null;
    if (typeof q?.query !== "string" || (q.params !== undefined && !Array.isArray(q.params))) {
      throw new RequestError(400, "each query needs a string `query` and an array `params`");
    }
    return { query: q.query, params: q.params ?? [] };
  };
  const batch = (body as { queries?: unknown } | null)?.queries;
  if (batch !== undefined) {
    if (!Array.isArray(batch)) throw new RequestError(400, "`queries` must be an array");
    return batch.map(asQuery);
  }
  return asQuery(body);
}

/** BEGIN with what the Neon-Batch-* headers ask for. */
function beginStatement(headers: http.IncomingHttpHeaders): string {
  const parts = ["BEGIN"];
  const isolation = headers["neon-batch-isolation-level"];
  if (typeof isolation === "string") {
    const level = ISOLATION_LEVELS[isolation];
    if (!level) throw new RequestError(400, `unknown Neon-Batch-Isolation-Level ${isolation}`);
    parts.push(`ISOLATION LEVEL ${level}`);
  }
  const readOnly = headers["neon-batch-read-only"];
  if (readOnly === "true") parts.push("READ ONLY");
  else if (readOnly === "false") parts.push("READ WRITE");
  const deferrable = headers["neon-batch-deferrable"];
  if (deferrable === "true") parts.push("DEFERRABLE");
  else if (deferrable === "false") parts.push("NOT DEFERRABLE");
  return parts.join(" ");
}

async function run(client: pg.PoolClient, q: SqlQuery, arrayMode: boolean) {
  // Extended protocol, as Neon's proxy uses: one statement per query, even without params.
  const result = await client.query({
    text: q.query,
    values: q.params,
    rowMode: "array",
    types: RAW_TEXT,
    queryMode: "extended",
  } as pg.QueryArrayConfig);
  const fields = result.fields.map((f) => ({
    name: f.name,
    tableID: f.tableID,
    columnID: f.columnID,
    dataTypeID: f.dataTypeID,
    dataTypeSize: f.dataTypeSize,
    dataTypeModifier: f.dataTypeModifier,
    format: f.format,
  }));
  const rows = arrayMode
    ? result.rows
    : result.rows.map((row) => Object.fromEntries(fields.map((f, i) => [f.name, row[i]])));
  return {
    fields,
    rows,
    command: result.command,
    rowCount: result.rowCount,
    rowAsArray: arrayMode,
  };
}

/** A Postgres error (it carries a SQLSTATE), as opposed to a broken connection or a bug. */
function isPostgresError(error: unknown): error is pg.DatabaseError {
  return error instanceof pg.DatabaseError;
}

function errorBody(error: pg.DatabaseError): Record<string, unknown> {
  const body: Record<string, unknown> = { message: error.message };
  for (const field of ERROR_FIELDS) {
    if (error[field] !== undefined) body[field] = error[field];
  }
  return body;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RequestError(413, "the body is too large"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const json = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(json),
  });
  res.end(json);
}

/**
 * Starts a local stand-in for Neon's HTTP endpoint on `host:port` (loopback, a free port by
 * default). Each target database gets its own bounded `pg` Pool; a one-shot query runs on its
 * own (autocommit), a batch in one transaction that rolls back on the first error.
 */
export async function startNeonHttp(opts: NeonHttpOptions = {}): Promise<NeonHttpServer> {
  const pools = new Map<string, pg.Pool>();
  const maxConnections = opts.maxConnectionsPerDatabase ?? DEFAULT_HTTP_POOL_SIZE;

  const poolFor = (target: ReturnType<typeof parseTarget>): pg.Pool => {
    const { key, ...config } = target;
    let pool = pools.get(key);
    if (!pool) {
      pool = new pg.Pool({ ...config, max: maxConnections, idleTimeoutMillis: 10_000 });
      // An idle connection dropped by the server must not take this process down.
      pool.on("error", () => {});
      pools.set(key, pool);
    }
    return pool;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://local").pathname;
    if (req.method !== "POST" || path !== "/sql") {
      throw new RequestError(404, "POST /sql is the only endpoint");
    }
    const target = parseTarget(req.headers["neon-connection-string"] as string | undefined);
    const body = parseBody(await readBody(req));
    const arrayMode = req.headers["neon-array-mode"] === "true";
    const begin = Array.isArray(body) ? beginStatement(req.headers) : null;

    const client = await poolFor(target).connect();
    // A connection whose state we cannot vouch for is closed rather than handed out again.
    let broken: Error | undefined;
    try {
      if (!Array.isArray(body)) {
        send(res, 200, await run(client, body, arrayMode));
        return;
      }
      await client.query(begin ?? "BEGIN");
      try {
        const results = [];
        for (const q of body) results.push(await run(client, q, arrayMode));
        await client.query("COMMIT");
        send(res, 200, { results });
      } catch (error) {
        await client.query("ROLLBACK").catch((e: Error) => {
          broken = e;
        });
        throw error;
      }
    } catch (error) {
      if (!isPostgresError(error))
        broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      // A lone BEGIN sent as a one-shot query must not hand an open transaction to the next one.
      if (!broken && client.getTransactionStatus() !== "I") {
        broken = new Error("connection left inside a transaction");
      }
      client.release(broken);
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof RequestError) send(res, error.status, { message: error.message });
      else if (isPostgresError(error)) send(res, 400, errorBody(error));
      else send(res, 500, { message: errorMessage(error) });
    });
  });

  // Node closes a keep-alive connection after 5 s idle; workerd reuses it meanwhile, and a
  // request sent as it closes fails with "Network connection lost". Outlive the client's idle.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | null = null;
  return {
    port,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        // Ended before the stack drops its test database, which refuses while sessions remain.
        await Promise.all([...pools.values()].map((pool) => pool.end()));
        pools.clear();
      })();
      return closing;
    },
  };
}
