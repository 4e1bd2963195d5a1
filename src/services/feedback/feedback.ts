import { and, count, desc, eq, isNull, lt, sql } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import { type Feedback, feedback, platformFeedback } from "../../db/schema/community.ts";
import { orders } from "../../db/schema/orders.ts";
import { shops } from "../../db/schema/shops.ts";
import { users } from "../../db/schema/users.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { parseOr422 } from "../../lib/input.ts";
import { type Page, toPage } from "../../lib/pagination.ts";
import { text } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { isUniqueViolation } from "../context.ts";
import { afterId } from "../cursor.ts";
import { Conflict, Forbidden, NotFound } from "../errors.ts";
import { notifyAfterCommit } from "../notifications/notify.ts";
import { RECEIVED_STATUSES } from "../orders/state-machine.ts";
import { emailsOf, shopRoleOf } from "../parties.ts";
import { isShopVisible } from "../shops/access.ts";

/** How long the buyer may change their feedback after leaving it. */
export const FEEDBACK_EDIT_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

const rating = z.number().int().min(1).max(5);
const comment = text().trim().min(1).max(2000);

export const orderFeedbackInput = z.object({ orderId: z.uuid(), rating, comment });
export const editFeedbackInput = z
  .object({ rating: rating.optional(), comment: comment.optional() })
  .refine((v) => v.rating !== undefined || v.comment !== undefined, {
    message: "give a rating or a comment to change",
    path: ["rating"],
  })
  .meta({ minProperties: 1 });
export const replyFeedbackInput = z.object({ body: text().trim().min(1).max(2000) });
export const platformFeedbackInput = z.object({
  rating,
  comment,
  category: text().trim().min(1).max(64).optional(),
});

export interface FeedbackView {
  id: string;
  orderId: string;
  shopId: string;
  buyerId: string;
  rating: number;
  comment: string;
  reply: string | null;
  repliedAt: string | null;
  editableUntil: string;
  createdAt: string;
  updatedAt: string;
}

function view(f: Feedback): FeedbackView {
  return {
    id: f.id,
    orderId: f.orderId,
    shopId: f.shopId,
    buyerId: f.buyerId,
    rating: f.rating,
    comment: f.comment,
    reply: f.reply,
    repliedAt: f.repliedAt?.toISOString() ?? null,
    editableUntil: new Date(f.createdAt.getTime() + FEEDBACK_EDIT_WINDOW_MS).toISOString(),
    createdAt: f.createdAt.toISOString(),
    updatedAt: f.updatedAt.toISOString(),
  };
}

/**
 * What anyone may read about a piece of feedback: the reviewer as a masked display name and
 * nothing that leads to their account or their order (no buyer id, no order id).
 */
export interface PublicFeedbackView {
  id: string;
  reviewer: string;
  rating: number;
  comment: string;
  reply: string | null;
  repliedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * "Amina Kowalski" → "Am… K.": enough to tell reviews apart, too little to find the person.
 * Counts code points, so an emoji or an accented letter is never cut in half.
 */
export function maskDisplayName(displayName: string): string {
  const words = displayName.trim().split(/\s+/u).filter(Boolean);
  const first = Array.from(words[0] ?? "");
  if (first.length === 0) return "A buyer";
  const head = first.slice(0, first.length > 2 ? 2 : 1).join("");
  const last = words.length > 1 ? Array.from(words[words.length - 1] ?? "")[0] : undefined;
  return last ? `${head}… ${last}.` : `${head}…`;
}

function publicView(f: Feedback, reviewer: { displayName: string; deleted: boolean }) {
  return {
    id: f.id,
    reviewer: reviewer.deleted ? "A former buyer" : maskDisplayName(reviewer.displayName),
    rating: f.rating,
    comment: f.comment,
    reply: f.reply,
    repliedAt: f.repliedAt?.toISOString() ?? null,
    createdAt: f.createdAt.toISOString(),
    updatedAt: f.updatedAt.toISOString(),
  } satisfies PublicFeedbackView;
}

function actorId(ctx: ServiceContext): string {
  if (!ctx.actor.id) throw new Error("feedback needs a signed-in actor");
  return ctx.actor.id;
}

/**
 * The buyer rates a delivered (or collected) order of their own, once (audited
 * `feedback.created`). Another buyer's order is a 404; an order not yet delivered or collected,
 * or already rated, is a 409.
 */
export async function createOrderFeedback(
  ctx: ServiceContext,
  raw: z.input<typeof orderFeedbackInput>,
): Promise<FeedbackView> {
  const input = parseOr422(orderFeedbackInput, raw);
  const buyerId = actorId(ctx);
  try {
    return await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      const [order] = await tx
        .select({ status: orders.status, shopId: orders.shopId })
        .from(orders)
        .where(and(eq(orders.id, input.orderId), eq(orders.buyerId, buyerId)));
      if (!order) throw new NotFound("order", input.orderId);
      if (!(RECEIVED_STATUSES as readonly string[]).includes(order.status)) {
        const only = "Only a delivered or collected order can be rated";
        throw new Conflict(`${only}; this one is ${order.status}.`, {
          currentStatus: order.status,
        });
      }
      const [row] = await tx
        .insert(feedback)
        .values({
          id: uuidv7(),
          orderId: input.orderId,
          shopId: order.shopId,
          buyerId,
          rating: input.rating,
          comment: input.comment,
        })
        .returning();
      if (!row) throw new Error("insert returned no row");
      await audit.record({
        action: "feedback.created",
        entityType: "feedback",
        entityId: row.id,
        newValue: { orderId: row.orderId, rating: row.rating, comment: row.comment },
      });
      return view(row);
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new Conflict("This order already has feedback; edit it instead.", {
        reason: "feedback_exists",
      });
    }
    throw err;
  }
}

/**
 * The buyer changes their rating or comment within 7 days of leaving it (audited
 * `feedback.updated`); later is a 409. Anyone else's feedback is a 404.
 */
export async function editOrderFeedback(
  ctx: ServiceContext,
  id: string,
  raw: z.input<typeof editFeedbackInput>,
): Promise<FeedbackView> {
  const input = parseOr422(editFeedbackInput, raw);
  const buyerId = actorId(ctx);
  return withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [before] = await tx
      .select()
      .from(feedback)
      .where(and(eq(feedback.id, id), eq(feedback.buyerId, buyerId)))
      .for("update");
    if (!before) throw new NotFound("feedback", id);
    const until = before.createdAt.getTime() + FEEDBACK_EDIT_WINDOW_MS;
    if (Date.now() > until) {
      throw new Conflict("Feedback can be edited for 7 days only.", {
        editableUntil: new Date(until).toISOString(),
      });
    }
    const [row] = await tx
      .update(feedback)
      .set({
        rating: input.rating ?? before.rating,
        comment: input.comment ?? before.comment,
        updatedAt: new Date(),
      })
      .where(eq(feedback.id, id))
      .returning();
    if (!row) throw new NotFound("feedback", id);
    await audit.record({
      action: "feedback.updated",
      entityType: "feedback",
      entityId: id,
      oldValue: { rating: before.rating, comment: before.comment },
      newValue: { rating: row.rating, comment: row.comment },
    });
    return view(row);
  });
}

/**
 * The shop's owner or a manager replies once (audited `feedback.replied`); the buyer is told.
 * Not on the shop's team → 404; staff → 403; a second reply → 409.
 */
export async function replyToFeedback(
  ctx: ServiceContext,
  id: string,
  raw: z.input<typeof replyFeedbackInput>,
): Promise<FeedbackView> {
  const input = parseOr422(replyFeedbackInput, raw);
  const userId = actorId(ctx);
  const [current] = await ctx.db.select().from(feedback).where(eq(feedback.id, id));
  if (!current) throw new NotFound("feedback", id);
  const role = await shopRoleOf(ctx.db, current.shopId, userId);
  if (role === null) throw new NotFound("feedback", id);
  if (role === "staff") throw new Forbidden("Only the shop's owner or a manager may reply.");
  const row = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [r] = await tx
      .update(feedback)
      .set({ reply: input.body, repliedBy: userId, repliedAt: new Date() })
      .where(and(eq(feedback.id, id), isNull(feedback.reply)))
      .returning();
    if (!r) throw new Conflict("The shop has already replied to this feedback.");
    await audit.record({
      action: "feedback.replied",
      entityType: "feedback",
      entityId: id,
      newValue: { reply: input.body },
    });
    return r;
  });
  const email = (await emailsOf(ctx.db, [row.buyerId])).get(row.buyerId);
  const title = "The shop replied to your feedback";
  await notifyAfterCommit(ctx.queue, ctx.logger, {
    userId: row.buyerId,
    kind: "feedback.replied",
    title,
    body: input.body,
    data: { feedbackId: id, orderId: row.orderId },
    dedupeKey: `feedback.replied:${id}`,
    ...(email ? { email: { to: email, subject: title, text: input.body } } : {}),
  });
  return view(row);
}

export interface FeedbackSummary {
  count: number;
  /** Mean rating to two decimals; null with no feedback. */
  average: number | null;
  distribution: Record<"1" | "2" | "3" | "4" | "5", number>;
}

/**
 * A visible shop's feedback, newest first, with the average and the 1..5 distribution. Public,
 * so each item names its reviewer only as a masked display name (`publicView`).
 */
export async function listShopFeedback(
  ctx: ServiceContext,
  shopId: string,
  q: { limit: number; cursor?: string | undefined },
): Promise<Page<PublicFeedbackView> & { summary: FeedbackSummary }> {
  const after = afterId(q.cursor);
  const [shop] = await ctx.db.select().from(shops).where(eq(shops.id, shopId));
  if (!shop || !isShopVisible(shop)) throw new NotFound("shop", shopId);
  const [rows, counts] = await Promise.all([
    ctx.db
      .select({ f: feedback, displayName: users.displayName, deletedAt: users.deletedAt })
      .from(feedback)
      .innerJoin(users, eq(users.id, feedback.buyerId))
      .where(and(eq(feedback.shopId, shopId), after ? lt(feedback.id, after) : undefined))
      .orderBy(desc(feedback.id))
      .limit(q.limit + 1),
    ctx.db
      .select({ rating: feedback.rating, n: count() })
      .from(feedback)
      .where(eq(feedback.shopId, shopId))
      .groupBy(feedback.rating)
      .orderBy(sql`${feedback.rating}`),
  ]);
  const distribution: FeedbackSummary["distribution"] = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
  let total = 0;
  let sum = 0;
  for (const c of counts) {
    const key = String(c.rating);
    if (key === "1" || key === "2" || key === "3" || key === "4" || key === "5") {
      distribution[key] = c.n;
    }
    total += c.n;
    sum += c.rating * c.n;
  }
  const page = toPage(rows, q.limit, (r) => ({ id: r.f.id }));
  return {
    items: page.items.map((r) =>
      publicView(r.f, { displayName: r.displayName, deleted: r.deletedAt !== null }),
    ),
    nextCursor: page.nextCursor,
    summary: {
      count: total,
      average: total === 0 ? null : Math.round((sum / total) * 100) / 100,
      distribution,
    },
  };
}

export interface PlatformFeedbackView {
  id: string;
  rating: number;
  comment: string;
  category: string | null;
  createdAt: string;
}

/** Any signed-in user tells us about Souk itself (audited `platform_feedback.created`). */
export async function createPlatformFeedback(
  ctx: ServiceContext,
  raw: z.input<typeof platformFeedbackInput>,
): Promise<PlatformFeedbackView> {
  const input = parseOr422(platformFeedbackInput, raw);
  const userId = actorId(ctx);
  return withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [row] = await tx
      .insert(platformFeedback)
      .values({
        id: uuidv7(),
        userId,
        rating: input.rating,
        comment: input.comment,
        category: input.category ?? null,
      })
      .returning();
    if (!row) throw new Error("insert returned no row");
    await audit.record({
      action: "platform_feedback.created",
      entityType: "platform_feedback",
      entityId: row.id,
      newValue: { rating: row.rating, category: row.category },
    });
    return {
      id: row.id,
      rating: row.rating,
      comment: row.comment,
      category: row.category,
      createdAt: row.createdAt.toISOString(),
    };
  });
}
