import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";

/** drizzle-kit output, applied in journal order (migrations/meta/_journal.json). */
export const MIGRATIONS_FOLDER = "migrations";

/** True when a Postgres accepts a connection and answers `SELECT 1` within `timeoutMs`. */
export async function probePostgres(databaseUrl: string, timeoutMs = 1_500): Promise<boolean> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  // A refused or dropped connection also emits "error"; the awaited calls report it.
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The URL of database `name` on the same server as `serverUrl` (same credentials). */
export function withDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function createDatabase(adminUrl: string, name: string): Promise<void> {
  await withAdmin(adminUrl, async (client) => {
    await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
  });
}

/** Drops `name`, disconnecting whoever is still attached (a test pool that did not close). */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withAdmin(adminUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  });
}

/** Names of databases on the server whose name starts with `prefix`. */
export async function listDatabases(adminUrl: string, prefix: string): Promise<string[]> {
  return withAdmin(adminUrl, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname",
      [prefix],
    );
    return rows.map((row) => row.datname);
  });
}

/** Applies every pending migration; already-applied ones are skipped by drizzle's journal. */
export async function applyMigrations(
  databaseUrl: string,
  migrationsFolder = MIGRATIONS_FOLDER,
): Promise<void> {
  // One connection: PGlite serves one query at a time and drizzle runs them in sequence anyway.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  pool.on("error", () => {});
  try {
    await migrate(drizzle({ client: pool }), { migrationsFolder });
  } finally {
    await pool.end();
  }
}

/** The server's max_connections and how many it keeps for superusers. */
export async function connectionBudget(
  databaseUrl: string,
): Promise<{ max: number; reserved: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on("error", () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', 'superuser_reserved_connections')",
    );
    const get = (n: string) => Number(rows.find((r) => r.name === n)?.setting ?? 0);
    return { max: get("max_connections"), reserved: get("superuser_reserved_connections") };
  } finally {
    await client.end();
  }
}
