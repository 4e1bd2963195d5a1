import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import * as schema from "./schema/index.ts";

export type Database = NeonDatabase<typeof schema>;
/** A transaction handle: what services receive when they must write inside one. */
export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Either the pool-backed database or an open transaction; reads accept both. */
export type Queryable = Database | Tx;

export interface DbHandle {
  db: Database;
  /** Ends the pool. Neon's rule: a Pool lives and dies within one request or one job. */
  close(): Promise<void>;
}

export interface DbOptions {
  databaseUrl: string;
  /**
   * `host:port` of the local WebSocket-to-TCP bridge (scripts/stack/pg-ws-bridge.ts). Only the
   * local stack sets it; production talks to Neon with the driver's defaults (TLS WebSockets).
   */
  localWsProxy?: string | undefined;
}

function configureLocalProxy(proxy: string): void {
  neonConfig.wsProxy = (host, port) => `${proxy}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}

/**
 * How long a request waits for a database connection. Generous, because the embedded database
 * (one session taken in turns) makes a burst of 300 checkouts queue for tens of seconds on two
 * busy cores, and waiting beats failing there; Neon connects in well under a second.
 */
export const CONNECT_TIMEOUT_MS = 30_000;

/** Builds a Pool-backed drizzle client. Call `close()` when the request or job is done. */
export function createDb(options: DbOptions): DbHandle {
  if (options.localWsProxy) configureLocalProxy(options.localWsProxy);
  const pool = new Pool({
    connectionString: options.databaseUrl,
    max: 4,
    // A request that cannot get a connection in this long gives up with "timeout exceeded when
    // trying to connect", which the error handler answers as 503 DATABASE_UNAVAILABLE: a hung
    // connect must not hold a request (and its client) open indefinitely.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // A dropped idle connection must not crash the isolate; the next query reconnects.
  pool.on("error", () => {});
  const db = drizzle({ client: pool, schema });
  let closed = false;
  return {
    db,
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
