import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type DbHandle } from "../../src/db/client.ts";

// The real Neon driver, inside workerd, through the WebSocket-to-TCP bridge: what every route
// that touches Postgres depends on locally.
describe("Neon driver through the local WebSocket bridge", () => {
  const table = `stack_probe_${crypto.randomUUID().replaceAll("-", "")}`;
  const open: DbHandle[] = [];

  function connect(): DbHandle {
    const handle = createDb({
      databaseUrl: env.DATABASE_URL ?? "",
      localWsProxy: env.NEON_LOCAL_WS_PROXY,
    });
    open.push(handle);
    return handle;
  }

  async function count(handle: DbHandle): Promise<number> {
    const result = await handle.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)}`,
    );
    return result.rows[0]?.n ?? -1;
  }

  beforeAll(async () => {
    const { db } = connect();
    await db.execute(
      sql`CREATE TABLE ${sql.identifier(table)} (id serial PRIMARY KEY, label text NOT NULL)`,
    );
  });

  afterAll(async () => {
    await connect().db.execute(sql`DROP TABLE IF EXISTS ${sql.identifier(table)}`);
    await Promise.all(open.map((handle) => handle.close()));
  });

  it("reaches the database the stack prepared, with migrations applied", async () => {
    const { db } = connect();
    const result = await db.execute<{ users: string | null; migrations: number }>(
      sql`SELECT to_regclass('public.users')::text AS users,
                 (SELECT count(*)::int FROM drizzle.__drizzle_migrations) AS migrations`,
    );
    expect(result.rows[0]?.users).toBe("users");
    expect(result.rows[0]?.migrations).toBeGreaterThan(0);
  });

  it("commits a transaction so another connection sees its rows", async () => {
    const writer = connect();
    await writer.db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO ${sql.identifier(table)} (label) VALUES ('a'), ('b')`);
      const inside = await tx.execute<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)}`,
      );
      expect(inside.rows[0]?.n).toBe(2);
    });
    await writer.close();
    expect(await count(connect())).toBe(2);
  });

  it("rolls back every write of a transaction that throws", async () => {
    const handle = connect();
    const before = await count(handle);
    await expect(
      handle.db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO ${sql.identifier(table)} (label) VALUES ('doomed')`);
        throw new Error("abort on purpose");
      }),
    ).rejects.toThrow("abort on purpose");
    expect(await count(handle)).toBe(before);
  });

  it("serves concurrent queries over several pooled connections", async () => {
    const { db } = connect();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => db.execute<{ i: number }>(sql`SELECT ${i}::int AS i`)),
    );
    expect(results.map((r) => r.rows[0]?.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
