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
 * Runs a change and its audit rows in one transaction: both commit or neither does. The change
 * must record at least one audit row; forgetting to is a bug, so it rolls the change back.
 */
export async function withAudit<T>(
  db: Database,
  actor: Actor,
  change: (tx: Tx, audit: AuditRecorder) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    let recorded = 0;
    const audit: AuditRecorder = {
      async record(entry) {
        await recordAudit(tx, actor, entry);
        recorded += 1;
      },
    };
    const result = await change(tx, audit);
    if (recorded === 0) throw new AuditMissing("a change committed without an audit row");
    return result;
  });
}
