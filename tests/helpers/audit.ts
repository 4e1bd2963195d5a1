import { and, eq, inArray } from "drizzle-orm";
import { type AuditRow, auditLog } from "../../src/db/schema/audit-log.ts";
import { withDb } from "./db.ts";

export type { AuditRow };

/** Narrows the rows read: one action, one entity type, one actor (all optional). */
export interface AuditFilter {
  action?: string;
  entityType?: string;
  actorId?: string;
}

/**
 * The audit rows written about one entity (or several), oldest first (ids are UUIDv7, so id order
 * is the order they were written in). The one way a test reads audit_log.
 */
export async function auditRows(
  entityId: string | readonly string[],
  filter: AuditFilter = {},
): Promise<AuditRow[]> {
  const ids = typeof entityId === "string" ? [entityId] : [...entityId];
  if (ids.length === 0) return [];
  return withDb((db) =>
    db
      .select()
      .from(auditLog)
      .where(
        and(
          ids.length === 1
            ? eq(auditLog.entityId, ids[0] as string)
            : inArray(auditLog.entityId, ids),
          filter.action === undefined ? undefined : eq(auditLog.action, filter.action),
          filter.entityType === undefined ? undefined : eq(auditLog.entityType, filter.entityType),
          filter.actorId === undefined ? undefined : eq(auditLog.actorId, filter.actorId),
        ),
      )
      .orderBy(auditLog.id),
  );
}

/** The actions recorded about an entity, oldest first. */
export async function auditActions(entityId: string, filter: AuditFilter = {}): Promise<string[]> {
  return (await auditRows(entityId, filter)).map((r) => r.action);
}

/** How many audit rows a user has written, of one action or all (to prove a failed change wrote none). */
export async function auditCountBy(actorId: string, action?: string): Promise<number> {
  const rows = await withDb((db) =>
    db
      .select({ id: auditLog.id })
      .from(auditLog)
      .where(
        and(
          eq(auditLog.actorId, actorId),
          action === undefined ? undefined : eq(auditLog.action, action),
        ),
      ),
  );
  return rows.length;
}

/** How many rows of `action` each entity has (0 for one with none). */
export async function auditCounts(
  entityIds: readonly string[],
  action: string,
): Promise<Record<string, number>> {
  const out: Record<string, number> = Object.fromEntries(entityIds.map((id) => [id, 0]));
  for (const r of await auditRows(entityIds, { action }))
    out[r.entityId] = (out[r.entityId] ?? 0) + 1;
  return out;
}
