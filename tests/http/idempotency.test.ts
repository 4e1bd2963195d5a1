import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { describe, expect, it } from "vitest";
import { idempotencyKeys } from "../../src/db/schema/index.ts";
import { createApp } from "../../src/http/app.ts";
import type { AppEnv } from "../../src/http/context.ts";
import {
  canonicalJson,
  IDEMPOTENCY_TTL_MS,
  idempotency,
  isFinalStatus,
  requestHash,
} from "../../src/http/middleware/idempotency.ts";
import { Conflict } from "../../src/services/errors.ts";
import { withDb } from "../helpers/db.ts";

const ROUTE = "POST /test/idempotent";

/** How often the handler ran per key, and a gate a test may hold it at. */
const runs = new Map<string, number>();
const gates = new Map<string, Promise<void>>();

const asUser = createMiddleware<AppEnv>(async (c, next) => {
  c.set("user", { id: c.req.header("x-test-user") ?? "", role: "buyer" });
  await next();
});

/** A route whose answer the body chooses: `{ "answer": 201 | 422 | 409 | 500 | "throw" }`. */
function testApp() {
  const app = createApp();
  app.post("/test/idempotent", asUser, idempotency({ route: ROUTE }), async (c) => {
    const key = c.req.header("idempotency-key") ?? "";
    runs.set(key, (runs.get(key) ?? 0) + 1);
    await gates.get(key);
    const body = (await c.req.json()) as { answer: number | "throw"; value?: unknown };
    if (body.answer === "throw") throw new Error("boom");
    if (body.answer === 409) throw new Conflict("state-dependent");
    const status = body.answer as 201 | 422 | 500;
    return c.json({ run: runs.get(key), value: body.value ?? null }, status);
  });
  return app;
}
const app = testApp();

function call(user: string, key: string | null, body: unknown) {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-test-user": user,
  };
  if (key !== null) headers["idempotency-key"] = key;
  return app.request(
    "/test/idempotent",
    { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) },
    env,
  );
}

const newKey = () => `k-${crypto.randomUUID()}`;
const newUser = () => crypto.randomUUID();

async function record(user: string, key: string) {
  const [row] = await withDb((db) =>
    db
      .select()
      .from(idempotencyKeys)
      .where(
        and(
          eq(idempotencyKeys.userId, user),
          eq(idempotencyKeys.route, ROUTE),
          eq(idempotencyKeys.key, key),
        ),
      ),
  );
  return row ?? null;
}

describe("Idempotency-Key middleware", () => {
  it("requires the header (400) and a key of 1–255 printable characters (422 naming it)", async () => {
    const user = newUser();
    const missing = await call(user, null, { answer: 201 });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: "IDEMPOTENCY_KEY_REQUIRED" });
    expect((await call(user, "   ", { answer: 201 })).status).toBe(400);

    const long = await call(user, "x".repeat(256), { answer: 201 });
    expect(long.status).toBe(422);
    expect(await long.json()).toMatchObject({
      code: "VALIDATION_FAILED",
      errors: [{ field: "Idempotency-Key", in: "header" }],
    });
    expect((await call(user, "x".repeat(255), { answer: 201 })).status).toBe(201);
  });

  it("replays the first response for the same body, whatever its key order or spacing", async () => {
    const user = newUser();
    const key = newKey();
    const first = await call(user, key, { answer: 201, value: { a: 1, b: [1, 2] } });
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const firstBody = await first.json();

    const again = await call(user, key, '{ "value": {"b":[1,2],"a":1},\n "answer": 201 }');
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(firstBody);
    expect(runs.get(key)).toBe(1);
    expect(await record(user, key)).toMatchObject({ state: "done", responseStatus: 201 });
  });

  it("refuses the same key with another body (422) without running it", async () => {
    const user = newUser();
    const key = newKey();
    await call(user, key, { answer: 201, value: 1 });
    const other = await call(user, key, { answer: 201, value: 2 });
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED" });
    expect(runs.get(key)).toBe(1);
  });

  it("answers 409 with Retry-After while the first is in flight, then replays it", async () => {
    const user = newUser();
    const key = newKey();
    let open = () => {};
    gates.set(
      key,
      new Promise<void>((resolve) => {
        open = resolve;
      }),
    );
    const first = call(user, key, { answer: 201 });
    // Wait until the first holds the key.
    for (let i = 0; i < 100 && !(await record(user, key)); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const busy = await call(user, key, { answer: 201 });
    expect(busy.status).toBe(409);
    expect(Number(busy.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await busy.json()).toMatchObject({ code: "CONFLICT", reason: "idempotency_in_flight" });
    open();
    expect((await first).status).toBe(201);
    const replay = await call(user, key, { answer: 201 });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(runs.get(key)).toBe(1);
  });

  it("lets exactly one of five concurrent duplicates run", async () => {
    const user = newUser();
    const key = newKey();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => call(user, key, { answer: 201 })),
    );
    expect(runs.get(key)).toBe(1);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const fresh = results.filter((r) => r.status === 201 && !r.headers.get("idempotent-replayed"));
    expect(fresh).toHaveLength(1);
  });

  it("stores deterministic 4xx, but drops 409, 5xx and thrown errors so a retry runs again", async () => {
    const user = newUser();
    const invalid = newKey();
    expect((await call(user, invalid, { answer: 422 })).status).toBe(422);
    const replayed = await call(user, invalid, { answer: 422 });
    expect(replayed.status).toBe(422);
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    expect(replayed.headers.get("content-type")).toContain("application/problem+json");
    expect(runs.get(invalid)).toBe(1);

    for (const answer of [409, 500, "throw"] as const) {
      const key = newKey();
      const first = await call(user, key, { answer });
      expect(first.status, String(answer)).toBe(answer === 409 ? 409 : 500);
      expect(await record(user, key), String(answer)).toBeNull();
      await call(user, key, { answer });
      expect(runs.get(key), String(answer)).toBe(2);
    }
    expect(isFinalStatus(402)).toBe(false);
    expect(isFinalStatus(429)).toBe(false);
    expect(isFinalStatus(404)).toBe(true);
  });

  it("takes over a record whose request crashed once its lock lapsed, not before", async () => {
    const user = newUser();
    const body = { answer: 201 };
    const hash = await requestHash("POST", JSON.stringify(body));
    const [stale, live] = [newKey(), newKey()];
    const now = Date.now();
    await withDb((db) =>
      db.insert(idempotencyKeys).values([
        {
          userId: user,
          route: ROUTE,
          key: stale,
          requestHash: hash,
          lockedUntil: new Date(now - 1000),
          expiresAt: new Date(now + IDEMPOTENCY_TTL_MS),
        },
        {
          userId: user,
          route: ROUTE,
          key: live,
          requestHash: hash,
          lockedUntil: new Date(now + 60_000),
          expiresAt: new Date(now + IDEMPOTENCY_TTL_MS),
        },
      ]),
    );
    expect((await call(user, live, body)).status).toBe(409);
    expect(runs.get(live)).toBeUndefined();
    const taken = await call(user, stale, body);
    expect(taken.status).toBe(201);
    expect(runs.get(stale)).toBe(1);
    expect(await record(user, stale)).toMatchObject({ state: "done", responseStatus: 201 });
  });

  it("forgets a key after 24 h: an expired record is reused, even with another body", async () => {
    const user = newUser();
    const key = newKey();
    const now = Date.now();
    await withDb((db) =>
      db.insert(idempotencyKeys).values({
        userId: user,
        route: ROUTE,
        key,
        requestHash: "old",
        state: "done",
        responseStatus: 201,
        responseBody: { old: true },
        lockedUntil: new Date(now - IDEMPOTENCY_TTL_MS),
        createdAt: new Date(now - IDEMPOTENCY_TTL_MS - 1000),
        expiresAt: new Date(now - 1000),
      }),
    );
    const res = await call(user, key, { answer: 201, value: "new" });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ value: "new" });
    expect(runs.get(key)).toBe(1);
  });

  it("scopes keys per user, and treats a quoted structured-field key as the bare key", async () => {
    const [alice, bob] = [newUser(), newUser()];
    const key = newKey();
    expect((await call(alice, key, { answer: 201, value: "a" })).status).toBe(201);
    const bobs = await call(bob, key, { answer: 201, value: "b" });
    expect(bobs.status).toBe(201);
    expect(await bobs.json()).toMatchObject({ value: "b" });
    expect(runs.get(key)).toBe(2);

    const quoted = await call(alice, `"${key}"`, { answer: 201, value: "a" });
    expect(quoted.headers.get("idempotent-replayed")).toBe("true");
  });

  it("canonicalises JSON by sorting keys at every depth", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"e":2,"f":1}]},"b":1}',
    );
  });
});
