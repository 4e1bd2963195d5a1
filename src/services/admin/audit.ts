import { and, desc, eq, gte, like, lt, lte, type SQL } from "drizzle-orm";
import { type AuditRow, auditLog } from "../../db/schema/audit-log.ts";
import { type Page, toPage } from "../../lib/pagination.ts";
import { afterId } from "../community/cursor.ts";
import type { ServiceContext } from "../context.ts";

export interface AuditQuery {
  limit: number;
  cursor?: string | undefined;
  actorId?: string | undefined;
  entityType?: string | undefined;
  entityId?: string | undefined;
  /** Exact (`order.cancelled`), or a prefix when it ends with `.` or `*` (`order.`, `order.*`). */
  action?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export interface AuditView {
  id: string;
  at: string;
  actorId: string | null;
  actorType: string;
  action: string;
  entityType: string;
  entityId: string;
  oldValue: unknown;
  newValue: unknown;
  requestId: string | null;
}

function view(r: AuditRow): AuditView {
  return {
    id: r.id,
    at: r.at.toISOString(),
    actorId: r.actorId,
    actorType: r.actorType,
    action: r.action,
    entityType: r.entityType,
    entityId: r.entityId,
    oldValue: r.oldValue ?? null,
    newValue: r.newValue ?? null,
    requestId: r.requestId,
  };
}

/** Escapes LIKE's wildcards so a prefix filter matches literally. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function actionCondition(action: string): SQL {
  if (action.endsWith("*")) return like(auditLog.action, likePrefix(action.slice(0, -1)));
  if (action.endsWith(".")) return like(auditLog.action, likePrefix(action));
  return eq(auditLog.action, action);
}

/**
 * The audit log for admins, newest first. The keyset is the row id: audit ids are uuidv7, so
 * they sort by time, and paging by id never repeats or skips a row while new ones are written.
 */
export async function listAudit(ctx: ServiceContext, q: AuditQuery): Promise<Page<AuditView>> {
  const after = afterId(q.cursor);
  const rows = await ctx.db
    .select()
    .from(auditLog)
    .where(
      and(
        q.actorId ? eq(auditLog.actorId, q.actorId) : undefined,
        q.entityType ? eq(auditLog.entityType, q.entityType) : undefined,
        q.entityId ? eq(auditLog.entityId, q.entityId) : undefined,
        q.action ? actionCondition(q.action) : undefined,
        q.from ? gte(auditLog.at, q.from) : undefined,
        q.to ? lte(auditLog.at, q.to) : undefined,
        after ? lt(auditLog.id, after) : undefined,
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => ({ id: r.id }));
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}
