import { env, exports } from "cloudflare:workers";
import { NeonDbError } from "@neondatabase/serverless";
import { eq, sql } from "drizzle-orm";
import { pgTable, serial, text } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client.ts";
import { createHttpDb, type HttpDatabase } from "../../src/db/http.ts";
import { countRoundTrips } from "../helpers/roundtrips.ts";

/** Rejects with the driver's error, so a test can read its fields. */
async function neonError(promise: Promise<unknown>): Promise<NeonDbError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(NeonDbError);
    return error as NeonDbError;
  }
  throw new Error("expected the query to fail");
}

// The real Neon driver's HTTP mode, inside workerd, against the stack's stand-in for Neon's
// SQL-over-HTTP endpoint (scripts/stack/neon-http.ts): the transport of the hot paths.
describe("Neon driver over the local SQL-over-HTTP endpoint", () => {
  const table = `stack_http_${crypto.randomUUID().replaceAll("-", "")}`;
  const probe = pgTable(table, {
    id: serial("id").primaryKey(),
    label: text("label").notNull().unique(`${table}_label_key`),
  });
  let db: HttpDatabase;

  const neonSql = () => db.$client;

  async function count(): Promise<number> {
    const rows = await neonSql().query(`SELECT count(*)::int AS n FROM ${table}`);
    return (rows[0] as { n: number }).n;
  }

  beforeAll(async () => {
    expect(env.NEON_LOCAL_HTTP, "the stack exposes its HTTP endpoint").toBeTruthy();
    db = createHttpDb({ databaseUrl: env.DATABASE_URL ?? "", localHttp: env.NEON_LOCAL_HTTP });
    await neonSql().query(
      `CREATE TABLE ${table} (id serial PRIMARY KEY, label text NOT NULL,
         CONSTRAINT ${table}_label_key UNIQUE (label))`,
    );
  });

  afterAll(async () => {
    await neonSql().query(`DROP TABLE IF EXISTS ${table}`);
  });

  it("answers a one-shot query with its params, each value typed by the driver's parsers", async () => {
    const at = new Date("2026-01-02T03:04:05.678Z");
    const id = crypto.randomUUID();
    const result = await neonSql().query(
      `SELECT $1::int AS i, $2::int8 AS big, $3::timestamptz AS at, $4::jsonb AS doc,
              $5::uuid AS id, NULL::text AS nothing, $6::int[] AS ints, $7::text[] AS words`,
      [42, "9007199254740993", at, JSON.stringify({ a: [1, "x"] }), id, [1, 2, 3], ["a", "b c"]],
      { fullResults: true },
    );
    const row = result.rows[0] as Record<string, unknown>;
    expect(row.i).toBe(42);
    // int8 stays a string (the driver's default: it may not fit a JS number).
    expect(row.big).toBe("9007199254740993");
    // A Date, or a string when drizzle's neon-http has set its timestamp parsers (per isolate).
    expect(new Date(row.at as string).toISOString()).toBe(at.toISOString());
    expect(row.doc).toEqual({ a: [1, "x"] });
    expect(row.id).toBe(id);
    expect(row.nothing).toBeNull();
    expect(row.ints).toEqual([1, 2, 3]);
    expect(row.words).toEqual(["a", "b c"]);
    expect(result.fields.map((f: { dataTypeID: number }) => f.dataTypeID)).toEqual([
      23, 20, 1184, 3802, 2950, 25, 1007, 1009,
    ]);
    expect(result.command).toBe("SELECT");
    expect(result.rowCount).toBe(1);
  });

  it("commits a batch as one request and one transaction", async () => {
    const before = await count();
    const s = neonSql();
    const { result, roundTrips } = await countRoundTrips(() =>
      s.transaction([
        s`INSERT INTO ${s.unsafe(table)} (label) VALUES (${"batch-a"})`,
        s`SELECT txid_current()::text AS tx`,
        s`INSERT INTO ${s.unsafe(table)} (label) VALUES (${"batch-b"})`,
        s`SELECT txid_current()::text AS tx`,
      ]),
    );
    expect(roundTrips.http).toBe(1);
    const [, first, , second] = result as Array<Array<{ tx: string }>>;
    expect(first?.[0]?.tx).toBe(second?.[0]?.tx);
    expect(await count()).toBe(before + 2);
  });

  it("begins a batch with the isolation level and access mode asked for", async () => {
    const s = neonSql();
    const [isolation, readOnly] = await s.transaction(
      [s`SHOW transaction_isolation`, s`SHOW transaction_read_only`],
      { isolationLevel: "Serializable", readOnly: true },
    );
    expect(isolation).toEqual([{ transaction_isolation: "serializable" }]);
    expect(readOnly).toEqual([{ transaction_read_only: "on" }]);
  });

  it("rolls back every statement of a batch whose second statement fails", async () => {
    const before = await count();
    const s = neonSql();
    const error = await neonError(
      s.transaction([
        s`INSERT INTO ${s.unsafe(table)} (label) VALUES (${"doomed"})`,
        s`INSERT INTO ${s.unsafe(table)} (label) VALUES (${null})`,
      ]),
    );
    expect(error.code).toBe("23502"); // not_null_violation
    expect(error.column).toBe("label");
    expect(await count()).toBe(before);
  });

  it("reports a unique violation with its SQLSTATE, constraint and detail", async () => {
    const s = neonSql();
    await s`INSERT INTO ${s.unsafe(table)} (label) VALUES (${"only-once"})`;
    const error = await neonError(
      s`INSERT INTO ${s.unsafe(table)} (label) VALUES (${"only-once"})`,
    );
    expect(error.code).toBe("23505");
    expect(error.constraint).toBe(`${table}_label_key`);
    expect(error.table).toBe(table);
    expect(error.detail).toContain("already exists");
  });

  it("carries a raised exception's message, custom SQLSTATE and hint", async () => {
    const error = await neonError(
      neonSql().query(
        `DO $$ BEGIN
           RAISE EXCEPTION 'stock too low for %', 'sku-1'
             USING ERRCODE = 'SK001', DETAIL = 'wanted 3, have 1', HINT = 'retry later';
         END $$`,
      ),
    );
    expect(error.message).toBe("stock too low for sku-1");
    expect(error.code).toBe("SK001");
    expect(error.detail).toBe("wanted 3, have 1");
    expect(error.hint).toBe("retry later");
  });

  it("sends one statement per query, as Neon does", async () => {
    const error = await neonError(neonSql().query("SELECT 1; SELECT 2"));
    expect(error.code).toBe("42601");
  });

  it("runs drizzle's db.batch of an insert and a select as one request in one transaction", async () => {
    const label = `drizzle-${crypto.randomUUID()}`;
    const { result, roundTrips } = await countRoundTrips(() =>
      db.batch([
        db.insert(probe).values({ label }).returning(),
        db.select().from(probe).where(eq(probe.label, label)),
      ]),
    );
    expect(roundTrips.http).toBe(1);
    const [inserted, selected] = result;
    expect(inserted).toHaveLength(1);
    // The select saw the insert: both ran in the same transaction, in order.
    expect(selected).toEqual(inserted);
  });

  it("rolls back a drizzle db.batch whose later statement fails", async () => {
    const label = `drizzle-dup-${crypto.randomUUID()}`;
    const before = await count();
    const error = await neonError(
      db.batch([
        db.insert(probe).values({ label: `${label}-first` }),
        db.insert(probe).values({ label }),
        db.insert(probe).values({ label }),
      ]),
    );
    expect(error.code).toBe("23505");
    expect(await count()).toBe(before);
  });

  it("refuses a database that is not on this machine", async () => {
    const remote = createHttpDb({
      databaseUrl: "postgres://user:secret@ep-example-123456.eu-central-1.aws.neon.tech/neondb",
      localHttp: env.NEON_LOCAL_HTTP,
    });
    const error = await neonError(remote.$client`SELECT 1`);
    expect(error.message).toContain("loopback");
  });

  it("hands drizzle's query builder the driver's error as the cause, SQLSTATE included", async () => {
    const label = `drizzle-once-${crypto.randomUUID()}`;
    await db.insert(probe).values({ label });
    const failed = await db
      .insert(probe)
      .values({ label })
      .then(
        () => new Error("expected a unique violation"),
        (error: unknown) => error as Error,
      );
    // drizzle wraps it ("Failed query: …"), as it does on the Pool; the driver's error is the cause.
    expect(failed.cause).toBeInstanceOf(NeonDbError);
    const cause = failed.cause as NeonDbError;
    expect(cause.code).toBe("23505");
    expect(cause.constraint).toBe(`${table}_label_key`);
  });

  describe("round-trip counter", () => {
    // The Worker's first request loads the whole app (seconds on a busy machine): not in a test.
    beforeAll(async () => {
      await (await exports.default.fetch("http://souk.test/health")).arrayBuffer();
    });

    it("counts one HTTP query as one round trip", async () => {
      const { result, roundTrips } = await countRoundTrips(() => db.execute(sql`SELECT 1 AS one`));
      expect(result.rows).toEqual([{ one: 1 }]);
      expect(roundTrips).toEqual({ http: 1, wsConnections: 0, wsQueries: 0, total: 1 });
    });

    it("counts a Pool query's connection and its query turn-arounds", async () => {
      const handle = createDb({
        databaseUrl: env.DATABASE_URL ?? "",
        localWsProxy: env.NEON_LOCAL_WS_PROXY,
      });
      try {
        const { roundTrips } = await countRoundTrips(() =>
          handle.db.transaction(async (tx) => {
            await tx.execute(sql`SELECT ${1}::int`);
          }),
        );
        expect(roundTrips.http).toBe(0);
        expect(roundTrips.wsConnections).toBe(1);
        // BEGIN, the SELECT and COMMIT each wait for Postgres.
        expect(roundTrips.wsQueries).toBe(3);
        expect(roundTrips.total).toBe(4);
      } finally {
        await handle.close();
      }
    });

    it("sees the Worker's own queries through exports.default.fetch (one driver module)", async () => {
      const { result, roundTrips } = await countRoundTrips(async () => {
        const res = await exports.default.fetch("http://souk.test/health");
        return { status: res.status, body: await res.json<{ checks: { postgres: unknown } }>() };
      });
      expect(result.body.checks.postgres).toMatchObject({ status: "ok" });
      expect(roundTrips.wsConnections).toBeGreaterThanOrEqual(1);
      expect(roundTrips.wsQueries).toBeGreaterThanOrEqual(1);
    });
  });
});
