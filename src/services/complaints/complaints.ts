import { and, desc, eq, isNull, lt, ne } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import type { Queryable } from "../../db/client.ts";
import {
  type Complaint,
  complaintCategory,
  complaintOutcome,
  type complaintStatus,
  complaints,
} from "../../db/schema/community.ts";
import { orders } from "../../db/schema/orders.ts";
import { shops } from "../../db/schema/shops.ts";
import { users } from "../../db/schema/users.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { parseOr422 } from "../../lib/input.ts";
import { type Page, toPage } from "../../lib/pagination.ts";
import { text } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { afterId } from "../cursor.ts";
import { Conflict, NotFound, ValidationFailed } from "../errors.ts";
import { notifyAfterCommit } from "../notifications/notify.ts";
import { emailsOf, isAdmin, shopRoleOf } from "../parties.ts";
import { isShopVisible } from "../shops/access.ts";

export const createComplaintInput = z.object({
  subject: z.object({ type: z.enum(["order", "shop", "user"]), id: z.uuid() }),
  category: z.enum(complaintCategory.enumValues),
  text: text().trim().min(10).max(5000),
});
export const assignComplaintInput = z.object({ adminId: z.uuid().optional() });
export const resolveComplaintInput = z.object({
  note: text().trim().min(3).max(5000),
  outcome: z.enum(complaintOutcome.enumValues),
});

export type ComplaintStatus = (typeof complaintStatus.enumValues)[number];

export interface ComplaintView {
  id: string;
  complainantId: string;
  subject: { type: Complaint["subjectType"]; id: string };
  category: Complaint["category"];
  text: string;
  status: ComplaintStatus;
  assigneeId: string | null;
  outcome: Complaint["outcome"];
  resolutionNote: string | null;
  resolvedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

function view(c: Complaint): ComplaintView {
  return {
    id: c.id,
    complainantId: c.complainantId,
    subject: { type: c.subjectType, id: c.subjectId },
    category: c.category,
    text: c.text,
    status: c.status,
    assigneeId: c.assigneeId,
    outcome: c.outcome,
    resolutionNote: c.resolutionNote,
    resolvedAt: c.resolvedAt?.toISOString() ?? null,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

/**
 * What a user may complain about: an order they bought or that their shop sold, a visible shop,
 * another live user. Anything else is a 404, so a complaint never confirms that a hidden order
 * or shop exists.
 */
async function checkSubject(
  db: Queryable,
  userId: string,
  subject: { type: "order" | "shop" | "user"; id: string },
) {
  if (subject.type === "order") {
    const [o] = await db
      .select({ buyerId: orders.buyerId, shopId: orders.shopId })
      .from(orders)
      .where(eq(orders.id, subject.id));
    if (!o) throw new NotFound("order", subject.id);
    if (o.buyerId !== userId && (await shopRoleOf(db, o.shopId, userId)) === null) {
      throw new NotFound("order", subject.id);
    }
    return;
  }
  if (subject.type === "shop") {
    const [s] = await db.select().from(shops).where(eq(shops.id, subject.id));
    if (!s || !isShopVisible(s)) throw new NotFound("shop", subject.id);
    return;
  }
  if (subject.id === userId) {
    throw new ValidationFailed([
      { field: "subject.id", in: "body", message: "you cannot complain about yourself" },
    ]);
  }
  const [u] = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.id, subject.id), isNull(users.deletedAt)));
  if (!u) throw new NotFound("user", subject.id);
}

async function tellComplainant(
  ctx: ServiceContext,
  c: Complaint,
  step: { kind: string; title: string; body: string; dedupeKey: string },
) {
  const email = (await emailsOf(ctx.db, [c.complainantId])).get(c.complainantId);
  await notifyAfterCommit(ctx.queue, ctx.logger, {
    userId: c.complainantId,
    kind: step.kind,
    title: step.title,
    body: step.body,
    data: { complaintId: c.id, status: c.status },
    dedupeKey: step.dedupeKey,
    ...(email ? { email: { to: email, subject: step.title, text: step.body } } : {}),
  });
}

/** A signed-in user files a complaint (audited `complaint.created`); they are told it arrived. */
export async function createComplaint(
  ctx: ServiceContext,
  raw: z.input<typeof createComplaintInput>,
): Promise<ComplaintView> {
  const input = parseOr422(createComplaintInput, raw);
  const userId = requireActor(ctx);
  await checkSubject(ctx.db, userId, input.subject);
  const row = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [c] = await tx
      .insert(complaints)
      .values({
        id: uuidv7(),
        complainantId: userId,
        subjectType: input.subject.type,
        subjectId: input.subject.id,
        category: input.category,
        text: input.text,
      })
      .returning();
    if (!c) throw new Error("insert returned no row");
    await audit.record({
      action: "complaint.created",
      entityType: "complaint",
      entityId: c.id,
      newValue: { subject: input.subject, category: input.category },
    });
    return c;
  });
  await tellComplainant(ctx, row, {
    kind: "complaint.received",
    title: "We received your complaint",
    body: "An admin will look at it; we will tell you when it is assigned and resolved.",
    dedupeKey: `complaint.received:${row.id}`,
  });
  return view(row);
}

function requireActor(ctx: ServiceContext): string {
  if (!ctx.actor.id) throw new Error("a complaint needs a signed-in actor");
  return ctx.actor.id;
}

/** The caller's own complaints, newest first. */
export async function listMyComplaints(
  ctx: ServiceContext,
  q: { limit: number; cursor?: string | undefined },
): Promise<Page<ComplaintView>> {
  const after = afterId(q.cursor);
  const rows = await ctx.db
    .select()
    .from(complaints)
    .where(
      and(
        eq(complaints.complainantId, requireActor(ctx)),
        after ? lt(complaints.id, after) : undefined,
      ),
    )
    .orderBy(desc(complaints.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (c) => ({ id: c.id }));
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}

/** One complaint, for its complainant or an admin; anyone else gets 404. */
export async function getComplaint(ctx: ServiceContext, id: string): Promise<ComplaintView> {
  const [c] = await ctx.db.select().from(complaints).where(eq(complaints.id, id));
  if (!c) throw new NotFound("complaint", id);
  if (c.complainantId !== ctx.actor.id && !(await isAdmin(ctx.db, ctx.actor.id))) {
    throw new NotFound("complaint", id);
  }
  return view(c);
}

/** Every complaint for admins, newest first, optionally by status. */
export async function listComplaintsForAdmin(
  ctx: ServiceContext,
  q: { limit: number; cursor?: string | undefined; status?: ComplaintStatus | undefined },
): Promise<Page<ComplaintView>> {
  const after = afterId(q.cursor);
  const rows = await ctx.db
    .select()
    .from(complaints)
    .where(
      and(
        q.status ? eq(complaints.status, q.status) : undefined,
        after ? lt(complaints.id, after) : undefined,
      ),
    )
    .orderBy(desc(complaints.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (c) => ({ id: c.id }));
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}

/**
 * An admin assigns a complaint to an admin (themselves by default), one audit row
 * `complaint.assigned`; the complainant is told. A resolved complaint cannot be reassigned (409).
 */
export async function assignComplaint(
  ctx: ServiceContext,
  id: string,
  raw: z.input<typeof assignComplaintInput>,
): Promise<ComplaintView> {
  const input = parseOr422(assignComplaintInput, raw ?? {});
  const adminId = input.adminId ?? requireActor(ctx);
  if (!(await isAdmin(ctx.db, adminId))) {
    throw new ValidationFailed([{ field: "adminId", in: "body", message: "is not an admin" }]);
  }
  const row = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [before] = await tx.select().from(complaints).where(eq(complaints.id, id)).for("update");
    if (!before) throw new NotFound("complaint", id);
    if (before.status === "resolved") {
      throw new Conflict("This complaint is resolved.", { currentStatus: before.status });
    }
    const [c] = await tx
      .update(complaints)
      .set({ status: "assigned", assigneeId: adminId, updatedAt: new Date() })
      .where(and(eq(complaints.id, id), ne(complaints.status, "resolved")))
      .returning();
    if (!c) throw new Conflict("This complaint is resolved.", { currentStatus: "resolved" });
    await audit.record({
      action: "complaint.assigned",
      entityType: "complaint",
      entityId: id,
      oldValue: { status: before.status, assigneeId: before.assigneeId },
      newValue: { status: c.status, assigneeId: adminId },
    });
    return c;
  });
  await tellComplainant(ctx, row, {
    kind: "complaint.assigned",
    title: "Your complaint is being handled",
    body: "An admin has taken your complaint and is looking into it.",
    dedupeKey: `complaint.assigned:${id}:${uuidv7()}`,
  });
  return view(row);
}

/**
 * An admin resolves a complaint with an outcome and a note, one audit row `complaint.resolved`;
 * the complainant is told. Resolving twice is a 409 naming the current status.
 */
export async function resolveComplaint(
  ctx: ServiceContext,
  id: string,
  raw: z.input<typeof resolveComplaintInput>,
): Promise<ComplaintView> {
  const input = parseOr422(resolveComplaintInput, raw);
  const adminId = requireActor(ctx);
  const row = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [before] = await tx.select().from(complaints).where(eq(complaints.id, id)).for("update");
    if (!before) throw new NotFound("complaint", id);
    if (before.status === "resolved") {
      throw new Conflict("This complaint is already resolved.", {
        currentStatus: before.status,
      });
    }
    const now = new Date();
    const [c] = await tx
      .update(complaints)
      .set({
        status: "resolved",
        outcome: input.outcome,
        resolutionNote: input.note,
        resolvedAt: now,
        assigneeId: before.assigneeId ?? adminId,
        updatedAt: now,
      })
      .where(eq(complaints.id, id))
      .returning();
    if (!c) throw new NotFound("complaint", id);
    await audit.record({
      action: "complaint.resolved",
      entityType: "complaint",
      entityId: id,
      oldValue: { status: before.status },
      newValue: { status: "resolved", outcome: input.outcome, note: input.note },
    });
    return c;
  });
  await tellComplainant(ctx, row, {
    kind: "complaint.resolved",
    title: "Your complaint is resolved",
    body: `Outcome: ${input.outcome.replace("_", " ")}. ${input.note}`,
    dedupeKey: `complaint.resolved:${id}`,
  });
  return view(row);
}
