import { type NeonQueryFunction, neon, neonConfig } from "@neondatabase/serverless";
import { drizzle, type NeonHttpDatabase } from "drizzle-orm/neon-http";
import * as schema from "./schema/index.ts";

/**
 * The database over Neon's SQL-over-HTTP transport: one HTTP request per query, and
 * `db.batch([...])` sends its statements as ONE request that the server runs in one transaction
 * (the driver's `transaction([...])`). No interactive transactions: a step cannot read a result
 * before the next is sent. Nothing to open or close, so it suits one-shot work on hot paths.
 */
export type HttpDatabase = NeonHttpDatabase<typeof schema> & {
  /** The driver's `sql` function underneath, for `sql.transaction([...])` and raw queries. */
  $client: NeonQueryFunction<false, false>;
};

export interface HttpDbOptions {
  databaseUrl: string;
  /**
   * `host:port` of the local stack's stand-in for Neon's HTTP endpoint
   * (scripts/stack/neon-http.ts). Only the local stack sets it; production sends HTTPS to Neon
   * with the driver's defaults.
   */
  localHttp?: string | undefined;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

function configureLocalEndpoint(localHttp: string): void {
  const endpoint = new URL(`http://${localHttp}/sql`);
  // Plain HTTP carries the connection string, password included: fine on loopback only.
  if (!LOOPBACK_HOSTS.has(endpoint.hostname)) {
    throw new Error(`NEON_LOCAL_HTTP must be a loopback host:port, not ${localHttp}`);
  }
  // The driver reads it per query, and it is per isolate: every neon() here goes local.
  neonConfig.fetchEndpoint = endpoint.toString();
}

const built = new Map<string, HttpDatabase>();

/**
 * The HTTP-backed drizzle client with the same schema as the Pool client, built once per
 * (database, endpoint) and isolate: it holds no connection (every query is its own fetch), and
 * building it walks the whole schema's relations (~0.2 ms of CPU) that a request should not pay.
 */
export function createHttpDb(options: HttpDbOptions): HttpDatabase {
  const id = `${options.localHttp ?? ""} ${options.databaseUrl}`;
  let db = built.get(id);
  if (!db) {
    if (options.localHttp) configureLocalEndpoint(options.localHttp);
    db = drizzle({ client: neon(options.databaseUrl), schema });
    built.set(id, db);
  }
  return db;
}
