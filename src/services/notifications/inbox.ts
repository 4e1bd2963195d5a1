import { and, count, desc, eq, isNull, lt, sql } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import { notifications } from "../../db/schema/notifications.ts";
import { decodeCursor, type Page, toPage } from "../../lib/pagination.ts";
import type { ServiceContext } from "../context.ts";
import { NotFound, ValidationFailed } from "../errors.ts";

export interface NotificationView {
  id: string;
  kind: string;
  title: string;
  body: string;
  data: Record<string, unknown> | null;
  readAt: string | null;
  createdAt: string;
}

type Row = typeof notifications.$inferSelect;

function view(n: Row): NotificationView {
  return {
    id: n.id,
    kind: n.kind,
    title: n.title,
    body: n.body,
    data: (n.data as Record<string, unknown> | null) ?? null,
    readAt: n.readAt?.toISOString() ?? null,
    createdAt: n.createdAt.toISOString(),
  };
}

export interface InboxQuery {
  limit: number;
  cursor?: string | undefined;
  /** Only unread ones. */
  unread?: boolean | undefined;
}

/** The user's notifications, newest first, with how many are unread in all. */
export async function listNotifications(
  ctx: ServiceContext,
  userId: string,
  q: InboxQuery,
): Promise<Page<NotificationView> & { unreadCount: number }> {
  const after = q.cursor ? decodeCursor(q.cursor, z.object({ id: z.uuid() })) : null;
  if (q.cursor && !after) {
    throw new ValidationFailed([
      { field: "cursor", in: "query", message: "is not a valid cursor" },
    ]);
  }
  // The unread count rides on the page's own statement, so both see one snapshot: two queries
  // in parallel could list a notification that arrived between them without counting it.
  const unreadNow = ctx.db
    .select({ n: count() })
    .from(notifications)
    .where(and(eq(notifications.userId, userId), isNull(notifications.readAt)));
  const found = await ctx.db
    .select({ row: notifications, unread: sql<number>`(${unreadNow})::int` })
    .from(notifications)
    .where(
      and(
        eq(notifications.userId, userId),
        q.unread ? isNull(notifications.readAt) : undefined,
        after ? lt(notifications.id, after.id) : undefined,
      ),
    )
    .orderBy(desc(notifications.id))
    .limit(q.limit + 1);
  const rows = found.map((f) => f.row);
  // An empty page carries no count: asked on its own (nothing listed to disagree with).
  const unread = found[0]?.unread ?? (await unreadNow)[0]?.n ?? 0;
  const page = toPage(rows, q.limit, (n) => ({ id: n.id }));
  return {
    items: page.items.map(view),
    nextCursor: page.nextCursor,
    unreadCount: unread,
  };
}

/** Marks one of the user's notifications read; another user's answers NOT_FOUND. Idempotent. */
export async function markNotificationRead(
  ctx: ServiceContext,
  userId: string,
  id: string,
): Promise<NotificationView> {
  const own = and(eq(notifications.id, id), eq(notifications.userId, userId));
  const [current] = await ctx.db.select().from(notifications).where(own);
  if (!current) throw new NotFound("notification", id);
  if (current.readAt) return view(current);
  try {
    return await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      const [row] = await tx
        .update(notifications)
        .set({ readAt: new Date() })
        .where(and(own, isNull(notifications.readAt)))
        .returning();
      if (!row) throw new AlreadyRead();
      await audit.record({
        action: "notification.read",
        entityType: "notification",
        entityId: id,
        newValue: { readAt: row.readAt?.toISOString() },
      });
      return view(row);
    });
  } catch (err) {
    if (!(err instanceof AlreadyRead)) throw err;
    // A concurrent request read it first: nothing changed here, so nothing to audit.
    const [again] = await ctx.db.select().from(notifications).where(own);
    if (!again) throw new NotFound("notification", id);
    return view(again);
  }
}

class AlreadyRead extends Error {}
