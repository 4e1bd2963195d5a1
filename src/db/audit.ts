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
