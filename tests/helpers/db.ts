import { env } from "cloudflare:workers";
import { createDb, type Database } from "../../src/db/client.ts";

/** Opens the test run's database through the real Neon driver, runs `fn`, closes the pool. */
export async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  if (!env.DATABASE_URL) throw new Error("DATABASE_URL is not bound: is the global setup running?");
  const handle = createDb({ databaseUrl: env.DATABASE_URL, localWsProxy: env.NEON_LOCAL_WS_PROXY });
  try {
    return await fn(handle.db);
  } finally {
    await handle.close();
  }
}
