import { getTableName, type Table } from "drizzle-orm";
import { uuidv7 } from "../lib/ids.ts";
import type { Database, Tx } from "./client.ts";
import { auditLog } from "./schema/audit-log.ts";

/** Who did it and under which request: carried from the HTTP layer or a job into services. */
export interface Actor {
  type: "user" | "system" | "stripe";
  id?: string | null;
  requestId?: string | null;
}

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId: string;
  oldValue?: unknown;
  newValue?: unknown;
}

export interface AuditRecorder {
  record(entry: AuditEntry): Promise<void>;
}

/** Writes one audit row inside an open transaction. Prefer `withAudit`; this is for helpers. */
export async function recordAudit(tx: Tx, actor: Actor, entry: AuditEntry): Promise<void> {
  await recordAudits(tx, [{ actor, entry }]);
}

/**
 * Writes many audit rows in one INSERT, inside an open transaction. For batch writers (the stock
 * outbox flush) where one round trip per row would let a distant database fall behind.
 */
export async function recordAudits(
  tx: Tx,
  rows: Array<{ actor: Actor; entry: AuditEntry }>,
): Promise<void> {
  if (rows.length === 0) return;
  await tx.insert(auditLog).values(auditRows(rows));
  const scope = scopes.get(tx);
  if (scope) scope.recorded += rows.length;
}

/**
 * The audit_log rows for these entries, for writers that cannot hold a transaction open: a
 * non-interactive batch (Neon's HTTP transaction) inserts them beside the change it records, so
 * both still commit or neither does.
 */
export function auditRows(
  rows: ReadonlyArray<{ actor: Actor; entry: AuditEntry }>,
): Array<typeof auditLog.$inferInsert> {
  return rows.map(({ actor, entry }) => ({
    id: uuidv7(),
    actorId: actor.id ?? null,
    actorType: actor.type,
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId,
    oldValue: entry.oldValue ?? null,
    newValue: entry.newValue ?? null,
    requestId: actor.requestId ?? null,
  }));
}

/**
 * An INSERT of these audit rows for a raw SQL statement (a non-interactive HTTP transaction, or a
 * CTE of one): one array parameter per column, numbered from `$first`, through `unnest`, so the
 * text is the same for one row or a hundred. `where` filters the rows on the columns of `v`
 * (the stock mirror keeps only the rows whose movement its own insert wrote).
 */
export function auditInsertSql(
  rows: ReadonlyArray<{ actor: Actor; entry: AuditEntry }>,
  first = 1,
  where = "",
): { text: string; params: unknown[] } {
  const audit = auditRows(rows);
  const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
  const p = (i: number) => `$${first + i}`;
  return {
    text: `insert into audit_log (id, actor_id, actor_type, action, entity_type, entity_id,
        old_value, new_value, request_id)
      select v.id, v.actor_id, v.actor_type, v.action, v.entity_type, v.entity_id,
        v.old_value::jsonb, v.new_value::jsonb, v.request_id
      from unnest(${p(0)}::uuid[], ${p(1)}::uuid[], ${p(2)}::text[], ${p(3)}::text[],
        ${p(4)}::text[], ${p(5)}::text[], ${p(6)}::text[], ${p(7)}::text[], ${p(8)}::text[])
        as v(id, actor_id, actor_type, action, entity_type, entity_id, old_value, new_value,
          request_id)
      ${where}`,
    params: [
      audit.map((a) => a.id),
      audit.map((a) => a.actorId ?? null),
      audit.map((a) => a.actorType),
      audit.map((a) => a.action),
      audit.map((a) => a.entityType),
      audit.map((a) => a.entityId),
      audit.map((a) => json(a.oldValue)),
      audit.map((a) => json(a.newValue)),
      audit.map((a) => a.requestId ?? null),
    ],
  };
}

export class AuditMissing extends Error {
  override name = "AuditMissing";
}

/**
 * Tables whose rows are not audited by design: the log itself; the buyer's own scratch state
 * (cart, wishlist); a checkout's status and intent id (they follow its orders' audited
 * transitions and Stripe's events); credentials' bookkeeping (refresh tokens, one-time codes); inboxes, outboxes
 * and job records (Stripe events, notifications, outbound mail, Idempotency-Key records, job runs,
 * dead letters); cursors; and what is derived from audited rows (low-stock alerts raised and
 * cleared from stock movements, sales rollups, forecasts, customer insights). Any other table written in a withAudit change needs an audit row.
 */
export const UNAUDITED_TABLES: readonly string[] = [
  "audit_log",
  "carts",
  "cart_items",
  "wishlist_items",
  "refresh_tokens",
  "account_codes",
  "shop_otps",
  "stripe_events",
  "checkouts",
  "notifications",
  "outbound_messages",
  "idempotency_keys",
  "job_runs",
  "dead_letters",
  "stock_alert_cursors",
  "stock_alerts",
  "rollup_watermarks",
  "sales_daily",
  "sales_daily_shops",
  "sales_monthly",
  "product_forecasts",
  "customer_insights",
  "intelligence_runs",
];

/** The audit scope of an open transaction: what its withAudit calls have recorded so far. */
interface Scope {
  recorded: number;
  /** The tables the change inserted into, updated or deleted from (through drizzle). */
  written: Set<string>;
}
const scopes = new WeakMap<Tx, Scope>();

/**
 * Runs a change and its audit rows in one transaction: both commit or neither does. Given a
 * transaction already open (a service calling another inside its own withAudit), it joins it:
 * no new transaction or savepoint, and the rows count toward the outer change. The outermost
 * change that wrote any audited table must have recorded at least one audit row; forgetting to
 * is a bug, so it rolls the change back with AuditMissing. A run that wrote nothing (a retry
 * that found its work done, a lost race) needs no row. What was written is noted from the
 * results of the drizzle writes made on the transaction (raw SQL writes are not seen), at no
 * cost to Postgres.
 */
export async function withAudit<T>(
  db: Database | Tx,
  actor: Actor,
  change: (tx: Tx, audit: AuditRecorder) => Promise<T>,
): Promise<T> {
  const joined = scopes.get(db as Tx);
  if (joined) return change(db as Tx, recorder(db as Tx, actor, joined));
  return (db as Database).transaction(async (raw) => {
    const scope: Scope = { recorded: 0, written: new Set() };
    const tx = watched(raw, scope);
    scopes.set(raw, scope);
    scopes.set(tx, scope);
    const result = await change(tx, recorder(tx, actor, scope));
    const unaudited = [...scope.written].filter((t) => !UNAUDITED_TABLES.includes(t));
    if (scope.recorded === 0 && unaudited.length > 0) {
      throw new AuditMissing(`a change to ${unaudited.join(", ")} committed without an audit row`);
    }
    return result;
  });
}

/**
 * The transaction, noting the table of every insert, update and delete made through it that
 * touched at least one row (an update that matched nothing, a conflicting insert that did
 * nothing, wrote nothing).
 */
function watched(tx: Tx, scope: Scope): Tx {
  return new Proxy(tx, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== "insert" && prop !== "update" && prop !== "delete") return value;
      return (table: Table, ...rest: unknown[]) => {
        const builder = (value as (t: Table, ...r: unknown[]) => object).call(
          target,
          table,
          ...rest,
        );
        return noting(builder, () => scope.written.add(getTableName(table)));
      };
    },
  });
}

/** A drizzle query builder whose result, once awaited, calls `wrote` if it touched any row. */
function noting<B extends object>(builder: B, wrote: () => void): B {
  const proxy: B = new Proxy(builder, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "then" && typeof value === "function") {
        return (ok?: (v: unknown) => unknown, fail?: (e: unknown) => unknown) =>
          (value as PromiseLike<unknown>["then"]).call(
            target,
            (result) => {
              if (touchedRows(result)) wrote();
              return ok ? ok(result) : result;
            },
            fail,
          );
      }
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const out = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (out === target) return proxy;
        // insert(t).values(…) and update(t).set(…) hand over to a new builder: keep watching.
        return out !== null && typeof out === "object" && "then" in out ? noting(out, wrote) : out;
      };
    },
  });
  return proxy;
}

function touchedRows(result: unknown): boolean {
  if (Array.isArray(result)) return result.length > 0;
  const count = (result as { rowCount?: unknown } | null)?.rowCount;
  return typeof count === "number" ? count > 0 : true;
}

function recorder(tx: Tx, actor: Actor, scope: Scope): AuditRecorder {
  return {
    async record(entry) {
      await recordAudit(tx, actor, entry);
      scope.recorded += 1;
    },
  };
}
