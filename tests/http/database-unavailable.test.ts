import { env } from "cloudflare:workers";
import { NeonDbError } from "@neondatabase/serverless";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.ts";
import { createDb } from "../../src/db/client.ts";
import { isDatabaseUnavailable } from "../../src/db/errors.ts";
import { createApp } from "../../src/http/app.ts";
import { withDb } from "../helpers/db.ts";

/** Nothing listens on port 1: every connection is refused, as when Postgres is down. */
const UNREACHABLE_DB = "postgres://postgres:postgres@127.0.0.1:1/souk";

/** The Worker with its database unreachable over both of the driver's transports. */
function requestWithoutDatabase(path: string, init: RequestInit = {}) {
  return buildApp().request(path, init, {
    ...env,
    DATABASE_URL: UNREACHABLE_DB,
    NEON_LOCAL_HTTP: "127.0.0.1:1",
  });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("a database that cannot be reached", () => {
  it("answers 503 DATABASE_UNAVAILABLE with Retry-After, never 500", async () => {
    const res = await requestWithoutDatabase(`/v1/products/${crypto.randomUUID()}`);
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await res.json()).toMatchObject({ code: "DATABASE_UNAVAILABLE", status: 503 });
  });

  it("answers 503 when the WebSocket transport rejects with the socket's error event", async () => {
    // What the Neon Pool rejects with when its WebSocket fails: the ErrorEvent, not an Error.
    const app = createApp();
    app.get("/test/socket-event", () => {
      throw Object.assign(new Event("error"), { message: "WebSocket connection failed" });
    });
    const res = await app.request("/test/socket-event", {}, env);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: "DATABASE_UNAVAILABLE" });
  });

  it("classifies the drivers' connection failures, and only those", async () => {
    // The WebSocket Pool, through drizzle, to a port where nothing listens.
    const down = createDb({ databaseUrl: UNREACHABLE_DB, localWsProxy: env.NEON_LOCAL_WS_PROXY });
    try {
      const refused = await rejection(down.db.execute(sql`select 1`));
      expect(isDatabaseUnavailable(refused), String(refused)).toBe(true);
    } finally {
      await down.close().catch(() => {});
    }

    // No connection in time (the Pool's connectionTimeoutMillis) and what Postgres itself says
    // when it has no room, as the WebSocket transport and drizzle report them.
    expect(isDatabaseUnavailable(new Error("timeout exceeded when trying to connect"))).toBe(true);
    const wrapped = new Error("Failed query: select 1", {
      cause: Object.assign(new Error("sorry, too many clients already"), { code: "53300" }),
    });
    expect(isDatabaseUnavailable(wrapped)).toBe(true);

    // Postgres answering with an error is the request's problem, not the platform's.
    const refusedByPostgres = await rejection(withDb((db) => db.execute(sql`select 1/0`)));
    expect(isDatabaseUnavailable(refusedByPostgres)).toBe(false);
    const unknownTable = await rejection(withDb((db) => db.execute(sql`select * from nowhere`)));
    expect(isDatabaseUnavailable(unknownTable)).toBe(false);

    // The HTTP transport's errors: no room at the server, a failed fetch, a failing endpoint.
    const tooMany = Object.assign(new NeonDbError("sorry, too many clients already"), {
      code: "53300",
    });
    expect(isDatabaseUnavailable(tooMany)).toBe(true);
    const fetchFailed = Object.assign(
      new NeonDbError("Error connecting to database: TypeError: fetch failed"),
      { sourceError: new TypeError("fetch failed") },
    );
    expect(isDatabaseUnavailable(fetchFailed)).toBe(true);
    expect(isDatabaseUnavailable(new NeonDbError("Server error (HTTP status 502): bad"))).toBe(
      true,
    );
    const uniqueViolation = Object.assign(new NeonDbError("duplicate key value"), {
      code: "23505",
    });
    expect(isDatabaseUnavailable(uniqueViolation)).toBe(false);
    expect(isDatabaseUnavailable(new Error("Something failed."))).toBe(false);
  });
});
