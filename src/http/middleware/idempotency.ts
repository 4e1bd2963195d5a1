import { and, eq, lte } from "drizzle-orm";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { Database } from "../../db/client.ts";
import { idempotencyKeys } from "../../db/schema/orders.ts";
import { errorMessage } from "../../lib/errors.ts";
import { DomainError, IdempotencyKeyReused, ValidationFailed } from "../../services/errors.ts";

export { IdempotencyKeyReused };

import type { AppEnv } from "../context.ts";
import { problem } from "../problem.ts";

/**
 * `Idempotency-Key` for writes that move money (IETF httpapi draft
 * "The Idempotency-Key HTTP Header Field"), scoped per user and route:
 *
 * - no key → 400 IDEMPOTENCY_KEY_REQUIRED; a key outside 1–255 printable ASCII characters → 422
 *   naming the header. A structured-field string (`"abc"`) and a bare token (`abc`) are the same
 *   key.
 * - first use → the request runs; its final response is stored with a SHA-256 of the canonical
 *   body (JSON with sorted keys, so whitespace and key order don't matter).
 * - same key, same body, finished → the stored status and body again, `Idempotent-Replayed: true`.
 * - same key, another body → 422 IDEMPOTENCY_KEY_REUSED.
 * - same key while the first is still running → 409 CONFLICT with Retry-After.
 * - a record whose request crashed mid-flight (never finished) is reclaimable once `locked_until`
 *   passes; records are kept 24 h, then the key may be used afresh.
 *
 * Only final answers are stored: 2xx, and 4xx that the same request would get again. Answers that
 * depend on the moment (402 payment failure, 409 conflicts such as stock, 429, 401/403, 408/425)
 * and every 5xx delete the record instead, so the client may retry with the same key; the
 * handler must leave nothing behind in those cases (checkout releases and voids what it made).
 */

export const IDEMPOTENCY_HEADER = "idempotency-key";
export const REPLAYED_HEADER = "Idempotent-Replayed";
/** How long a finished key answers with its stored response. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** Longer than any request may run (Stripe: 10 s timeout × 3 tries); then a crash is reclaimable. */
export const DEFAULT_LOCK_MS = 60_000;

/** Statuses whose answer may change on retry: never stored, the record is dropped. */
const NOT_FINAL = new Set([401, 402, 403, 408, 409, 425, 429]);

export function isFinalStatus(status: number): boolean {
  return status < 500 && !NOT_FINAL.has(status);
}

export class IdempotencyKeyRequired extends DomainError {
  constructor() {
    super(
      "IDEMPOTENCY_KEY_REQUIRED",
      "This request moves money: send an Idempotency-Key header (a unique value per intended " +
        "operation, e.g. a UUID) and reuse it when you retry.",
    );
  }
}

/**
 * A key as the header carries it: 1–255 printable ASCII characters, not all spaces, bare or as a
 * structured-field string whose quotes are not counted. The one rule: the middleware checks it
 * and every route's header schema declares it (src/routes/schemas.ts).
 */
export const IDEMPOTENCY_KEY_PATTERN =
  /^(?:"(?! *"$)[\x20-\x7e]{1,255}"|(?!".*"$)[\x20-\x7e]{1,255})$/;
export const IDEMPOTENCY_KEY_RULE = "must be 1 to 255 printable ASCII characters";

/** The key from the header: a structured-field string's quotes are not part of it. */
export function parseIdempotencyKey(header: string | undefined): string {
  if (header === undefined || header.trim() === "") throw new IdempotencyKeyRequired();
  const raw = header.trim();
  if (!IDEMPOTENCY_KEY_PATTERN.test(raw)) {
    throw new ValidationFailed([
      {
        field: "Idempotency-Key",
        in: "header",
        message: IDEMPOTENCY_KEY_RULE,
      },
    ]);
  }
  return raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
}

/** JSON with object keys sorted at every depth: equal bodies, equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** SHA-256 (hex) of the canonical body; a body that is not JSON is hashed as its bytes. */
export async function requestHash(method: string, rawBody: string): Promise<string> {
  let canonical = rawBody;
  if (rawBody.trim() !== "") {
    try {
      canonical = canonicalJson(JSON.parse(rawBody));
    } catch {
      // Not JSON: the validator will answer 422; hash the text as sent.
    }
  }
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`${method}\n${canonical}`),
  );
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

type Claim =
  | { kind: "run"; lockedUntil: Date }
  | { kind: "replay"; status: number; body: unknown }
  | { kind: "busy"; retryAfterSeconds: number }
  | { kind: "reused" };

interface RecordId {
  userId: string;
  route: string;
  key: string;
}

const pk = (id: RecordId) =>
  and(
    eq(idempotencyKeys.userId, id.userId),
    eq(idempotencyKeys.route, id.route),
    eq(idempotencyKeys.key, id.key),
  );

/**
 * Takes the key for this request, or says why not. The insert is the lock: Postgres' primary key
 * lets exactly one of any number of concurrent first requests through. An expired record, or an
 * in-flight one whose lock lapsed (its request crashed), is taken over by a conditional update
 * that likewise only one contender wins.
 */
async function claim(db: Database, id: RecordId, hash: string, lockMs: number): Promise<Claim> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const now = new Date();
    const lockedUntil = new Date(now.getTime() + lockMs);
    const inserted = await db
      .insert(idempotencyKeys)
      .values({
        ...id,
        requestHash: hash,
        state: "in_progress",
        lockedUntil,
        expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
      })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (inserted.length > 0) return { kind: "run", lockedUntil };

    const [row] = await db.select().from(idempotencyKeys).where(pk(id));
    if (!row) continue; // deleted in between (a retryable failure): try the insert again
    if (row.expiresAt <= now) {
      const taken = await db
        .update(idempotencyKeys)
        .set({
          requestHash: hash,
          state: "in_progress",
          lockedUntil,
          responseStatus: null,
          responseBody: null,
          createdAt: now,
          expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
        })
        .where(and(pk(id), lte(idempotencyKeys.expiresAt, now)))
        .returning({ key: idempotencyKeys.key });
      if (taken.length > 0) return { kind: "run", lockedUntil };
      continue;
    }
    if (row.requestHash !== hash) return { kind: "reused" };
    if (row.state === "done" && row.responseStatus !== null) {
      return { kind: "replay", status: row.responseStatus, body: row.responseBody };
    }
    if (row.lockedUntil > now) {
      const seconds = Math.ceil((row.lockedUntil.getTime() - now.getTime()) / 1000);
      return { kind: "busy", retryAfterSeconds: Math.max(1, Math.min(seconds, 5)) };
    }
    // The first request died without finishing (its lock lapsed): take it over.
    const taken = await db
      .update(idempotencyKeys)
      .set({ lockedUntil })
      .where(
        and(
          pk(id),
          eq(idempotencyKeys.state, "in_progress"),
          eq(idempotencyKeys.lockedUntil, row.lockedUntil),
        ),
      )
      .returning({ key: idempotencyKeys.key });
    if (taken.length > 0) return { kind: "run", lockedUntil };
  }
  return { kind: "busy", retryAfterSeconds: 1 };
}

/** Only the holder of this lock may finish or drop the record (a taken-over request may not). */
const ours = (id: RecordId, lockedUntil: Date) =>
  and(
    pk(id),
    eq(idempotencyKeys.state, "in_progress"),
    eq(idempotencyKeys.lockedUntil, lockedUntil),
  );

async function finish(db: Database, id: RecordId, lockedUntil: Date, res: Response) {
  const text = await res.clone().text();
  let body: unknown = text;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    // stored as a JSON string; replayed as text
  }
  return db
    .update(idempotencyKeys)
    .set({ state: "done", responseStatus: res.status, responseBody: body })
    .where(ours(id, lockedUntil))
    .returning({ key: idempotencyKeys.key });
}

async function drop(db: Database, id: RecordId, lockedUntil: Date): Promise<void> {
  await db.delete(idempotencyKeys).where(ours(id, lockedUntil));
}

function replay(c: Context<AppEnv>, status: number, body: unknown): Response {
  const problem = status >= 400;
  const text = typeof body === "string" && !problem ? body : JSON.stringify(body);
  return new Response(status === 204 ? null : text, {
    status,
    headers: {
      "content-type": problem ? "application/problem+json" : "application/json",
      [REPLAYED_HEADER]: "true",
      "x-request-id": c.get("requestId") ?? "",
    },
  });
}

export interface IdempotencyOptions {
  /** The operation the key is scoped to, e.g. `POST /v1/checkout/confirm`. */
  route: string;
  lockMs?: number;
}

/**
 * Requires and enforces an Idempotency-Key on a route (after requireAuth: keys are per user).
 * Put it before the body validator so a replay answers even if validation rules change.
 */
export function idempotency(options: IdempotencyOptions) {
  const lockMs = options.lockMs ?? DEFAULT_LOCK_MS;
  return createMiddleware<AppEnv>(async (c, next) => {
    const key = parseIdempotencyKey(c.req.header(IDEMPOTENCY_HEADER));
    const user = c.get("user");
    const { db, logger } = c.get("services");
    const id: RecordId = { userId: user.id, route: options.route, key };
    const hash = await requestHash(c.req.method, await c.req.text());
    const claimed = await claim(db, id, hash, lockMs);
    switch (claimed.kind) {
      case "reused":
        throw new IdempotencyKeyReused();
      case "busy": {
        const res = problem(
          c,
          "CONFLICT",
          "A request with this Idempotency-Key is still being processed; retry shortly.",
          { reason: "idempotency_in_flight", retryAfterSeconds: claimed.retryAfterSeconds },
        );
        res.headers.set("retry-after", String(claimed.retryAfterSeconds));
        return res;
      }
      case "replay":
        return replay(c, claimed.status, claimed.body);
      case "run":
        break;
    }
    const lockedUntil = claimed.lockedUntil;
    try {
      await next();
    } catch (err) {
      await drop(db, id, lockedUntil).catch(() => undefined);
      throw err;
    }
    try {
      if (isFinalStatus(c.res.status)) {
        const stored = await finish(db, id, lockedUntil, c.res);
        if (stored.length === 0) {
          logger.warn("idempotency record was taken over before this request finished", {
            route: id.route,
          });
        }
      } else {
        await drop(db, id, lockedUntil);
      }
    } catch (err) {
      // The response stands; a lost record only means a retry runs again (the lock lapses).
      logger.error("could not settle the idempotency record", {
        route: id.route,
        error: errorMessage(err),
      });
    }
  });
}

/**
 * Requires an Idempotency-Key and puts it, with the hash of the body, on the context, for a
 * route whose service keeps its own record (checkout confirm writes it with its orders, in one
 * round trip). Same header rules and answers as `idempotency()`.
 */
export const requireIdempotencyKey = createMiddleware<AppEnv>(async (c, next) => {
  const key = parseIdempotencyKey(c.req.header(IDEMPOTENCY_HEADER));
  c.set("idempotencyKey", {
    key,
    requestHash: await requestHash(c.req.method, await c.req.text()),
  });
  await next();
});
