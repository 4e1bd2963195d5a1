import { and, count, desc, eq, gt, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { z } from "zod";
import { type AuditRecorder, withAudit } from "../../db/audit.ts";
import type { Queryable, Tx } from "../../db/client.ts";
import { products } from "../../db/schema/catalog.ts";
import { type Conversation, conversations, messages } from "../../db/schema/community.ts";
import { orders } from "../../db/schema/orders.ts";
import { shops } from "../../db/schema/shops.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { parseOr422 } from "../../lib/input.ts";
import { decodeCursor, type Page, toPage } from "../../lib/pagination.ts";
import { text } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { afterId } from "../cursor.ts";
import { Conflict, Forbidden, NotFound, ValidationFailed } from "../errors.ts";
import { notifyAfterCommit } from "../notifications/notify.ts";
import { emailsOf, isAdmin, shopRoleOf, shopTeam } from "../parties.ts";
import { isShopVisible } from "../shops/access.ts";

const body = text().trim().min(1).max(5000);

export const openConversationInput = z
  .object({
    shopId: z.uuid(),
    productId: z.uuid().optional(),
    orderId: z.uuid().optional(),
    body,
  })
  .refine((v) => !(v.productId && v.orderId), {
    message: "give a productId or an orderId, not both",
    path: ["orderId"],
  })
  .meta({ not: { required: ["productId", "orderId"] } });
export const messageInput = z.object({ body });

type Side = "buyer" | "shop";
/** How the caller sees a conversation: as one of its two parties, or as an admin reading it. */
type Viewer = Side | "admin";

export interface ConversationView {
  id: string;
  buyerId: string;
  shopId: string;
  productId: string | null;
  orderId: string | null;
  lastMessageAt: string;
  createdAt: string;
  /** Messages from the other side the caller has not read (0 for an admin). */
  unreadCount: number;
}

export interface MessageView {
  id: string;
  conversationId: string;
  senderId: string;
  side: Side;
  body: string;
  createdAt: string;
}

function view(c: Conversation, unreadCount: number): ConversationView {
  return {
    id: c.id,
    buyerId: c.buyerId,
    shopId: c.shopId,
    productId: c.productId,
    orderId: c.orderId,
    lastMessageAt: c.lastMessageAt.toISOString(),
    createdAt: c.createdAt.toISOString(),
    unreadCount,
  };
}

function messageView(m: typeof messages.$inferSelect): MessageView {
  return {
    id: m.id,
    conversationId: m.conversationId,
    senderId: m.senderId,
    side: m.side,
    body: m.body,
    createdAt: m.createdAt.toISOString(),
  };
}

function actorId(ctx: ServiceContext): string {
  if (!ctx.actor.id) throw new Error("a conversation needs a signed-in actor");
  return ctx.actor.id;
}

/** Unread counts of the given conversations, for one side. */
async function unreadCounts(
  db: Queryable,
  ids: string[],
  side: Side,
): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const readUpTo = side === "buyer" ? conversations.buyerReadUpTo : conversations.shopReadUpTo;
  const rows = await db
    .select({ id: messages.conversationId, n: count() })
    .from(messages)
    .innerJoin(conversations, eq(conversations.id, messages.conversationId))
    .where(
      and(
        inArray(messages.conversationId, ids),
        eq(messages.side, side === "buyer" ? "shop" : "buyer"),
        or(isNull(readUpTo), gt(messages.id, readUpTo)),
      ),
    )
    .groupBy(messages.conversationId);
  return new Map(rows.map((r) => [r.id, r.n]));
}

/**
 * Who the caller is in this conversation: its buyer, a member of its shop, or an admin.
 * Anyone else gets a 404, so a conversation's existence is never revealed.
 */
async function access(
  ctx: ServiceContext,
  id: string,
): Promise<{ conv: Conversation; viewer: Viewer }> {
  const userId = actorId(ctx);
  const [conv] = await ctx.db.select().from(conversations).where(eq(conversations.id, id));
  if (!conv) throw new NotFound("conversation", id);
  if (conv.buyerId === userId) return { conv, viewer: "buyer" };
  if ((await shopRoleOf(ctx.db, conv.shopId, userId)) !== null) return { conv, viewer: "shop" };
  if (await isAdmin(ctx.db, userId)) return { conv, viewer: "admin" };
  throw new NotFound("conversation", id);
}

/** Puts a message in a conversation (audited `message.sent`); the sender has read up to it. */
async function insertMessage(
  tx: Tx,
  audit: AuditRecorder,
  conv: Conversation,
  senderId: string,
  side: Side,
  text: string,
) {
  const id = uuidv7();
  const [m] = await tx
    .insert(messages)
    .values({ id, conversationId: conv.id, senderId, side, body: text })
    .returning();
  if (!m) throw new Error("insert returned no row");
  await tx
    .update(conversations)
    .set({
      // Milliseconds from the server's clock, as the list's (lastMessageAt, id) cursor carries
      // them, so it compares exactly; greatest() keeps a racing older message from rewinding it.
      lastMessageAt: sql`greatest(${conversations.lastMessageAt}, ${new Date().toISOString()}::timestamptz)`,
      ...(side === "buyer" ? { buyerReadUpTo: id } : { shopReadUpTo: id }),
    })
    .where(eq(conversations.id, conv.id));
  await audit.record({
    action: "message.sent",
    entityType: "conversation",
    entityId: conv.id,
    newValue: { messageId: id, side },
  });
  return m;
}

/** Tells the other side of a new message: the buyer, or every member of the shop's team. */
async function tellOtherSide(ctx: ServiceContext, conv: Conversation, m: MessageView) {
  const [shop] = await ctx.db
    .select({ name: shops.name })
    .from(shops)
    .where(eq(shops.id, conv.shopId));
  const recipients =
    m.side === "buyer"
      ? (await shopTeam(ctx.db, conv.shopId)).filter((u) => u.id !== m.senderId)
      : [{ id: conv.buyerId, email: (await emailsOf(ctx.db, [conv.buyerId])).get(conv.buyerId) }];
  const title =
    m.side === "buyer" ? "A buyer sent your shop a message" : `${shop?.name ?? "A shop"} replied`;
  const preview = m.body.length > 200 ? `${m.body.slice(0, 200)}…` : m.body;
  for (const r of recipients) {
    await notifyAfterCommit(ctx.queue, ctx.logger, {
      userId: r.id,
      kind: "message.received",
      title,
      body: preview,
      data: { conversationId: conv.id, messageId: m.id },
      // One notice per message and recipient: a redelivered queue message writes nothing twice.
      dedupeKey: `message:${m.id}:${r.id}`,
      ...(r.email ? { email: { to: r.email, subject: title, text: preview } } : {}),
    });
  }
}

/**
 * A buyer writes to a shop, optionally about one of its products or one of their orders with it.
 * One conversation per buyer, shop and subject: opening it again adds the message to the
 * existing one (`created: false`). A hidden shop, another shop's product or someone else's order
 * is a 404; a shop's own team cannot open one with it (409).
 */
export async function openConversation(
  ctx: ServiceContext,
  raw: z.input<typeof openConversationInput>,
): Promise<{ conversation: ConversationView; message: MessageView; created: boolean }> {
  const input = parseOr422(openConversationInput, raw);
  const buyerId = actorId(ctx);
  const [shop] = await ctx.db.select().from(shops).where(eq(shops.id, input.shopId));
  if (!shop || shop.deletedAt) throw new NotFound("shop", input.shopId);
  if (input.orderId) {
    const [o] = await ctx.db
      .select({ id: orders.id })
      .from(orders)
      .where(
        and(
          eq(orders.id, input.orderId),
          eq(orders.buyerId, buyerId),
          eq(orders.shopId, input.shopId),
        ),
      );
    if (!o) throw new NotFound("order", input.orderId);
  } else if (!isShopVisible(shop)) {
    // Without an order of theirs, a buyer may only write to a shop they can see.
    throw new NotFound("shop", input.shopId);
  }
  if (input.productId) {
    const [p] = await ctx.db
      .select({ id: products.id })
      .from(products)
      .where(
        and(
          eq(products.id, input.productId),
          eq(products.shopId, input.shopId),
          isNull(products.deletedAt),
        ),
      );
    if (!p) throw new NotFound("product", input.productId);
  }
  if ((await shopRoleOf(ctx.db, input.shopId, buyerId)) !== null) {
    throw new Conflict("You are on this shop's team; you cannot open a conversation with it.");
  }
  const subjectKey = input.orderId
    ? `order:${input.orderId}`
    : input.productId
      ? `product:${input.productId}`
      : "general";
  const opened = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    // Inside the transaction: a racing second open waits on the unique key, then finds this one.
    const [inserted] = await tx
      .insert(conversations)
      .values({
        id: uuidv7(),
        buyerId,
        shopId: input.shopId,
        productId: input.productId ?? null,
        orderId: input.orderId ?? null,
        subjectKey,
        // Milliseconds, not now()'s microseconds: see insertMessage.
        lastMessageAt: new Date(),
      })
      .onConflictDoNothing({
        target: [conversations.buyerId, conversations.shopId, conversations.subjectKey],
      })
      .returning();
    const conv =
      inserted ??
      (
        await tx
          .select()
          .from(conversations)
          .where(
            and(
              eq(conversations.buyerId, buyerId),
              eq(conversations.shopId, input.shopId),
              eq(conversations.subjectKey, subjectKey),
            ),
          )
      )[0];
    if (!conv) throw new Error("the conversation vanished");
    if (inserted) {
      await audit.record({
        action: "conversation.opened",
        entityType: "conversation",
        entityId: conv.id,
        newValue: { shopId: conv.shopId, productId: conv.productId, orderId: conv.orderId },
      });
    }
    const m = await insertMessage(tx, audit, conv, buyerId, "buyer", input.body);
    return { conv, m, created: inserted !== undefined };
  });
  const { conv, m } = opened;
  const message = messageView(m);
  await tellOtherSide(ctx, conv, message);
  const [fresh] = await ctx.db.select().from(conversations).where(eq(conversations.id, conv.id));
  const unread = await unreadCounts(ctx.db, [conv.id], "buyer");
  return {
    conversation: view(fresh ?? conv, unread.get(conv.id) ?? 0),
    message,
    created: opened.created,
  };
}

const listCursor = z.object({ at: z.iso.datetime(), id: z.uuid() });

/**
 * The caller's conversations, most recently active first, each with its unread count: as a
 * buyer, or as a member of `shopId` (not a member → 404).
 */
export async function listConversations(
  ctx: ServiceContext,
  q: { limit: number; cursor?: string | undefined; shopId?: string | undefined },
): Promise<Page<ConversationView>> {
  const userId = actorId(ctx);
  const after = q.cursor ? decodeCursor(q.cursor, listCursor) : null;
  if (q.cursor && !after) {
    throw new ValidationFailed([
      { field: "cursor", in: "query", message: "is not a valid cursor" },
    ]);
  }
  let side: Side = "buyer";
  if (q.shopId) {
    if ((await shopRoleOf(ctx.db, q.shopId, userId)) === null) throw new NotFound("shop", q.shopId);
    side = "shop";
  }
  const rows = await ctx.db
    .select()
    .from(conversations)
    .where(
      and(
        q.shopId ? eq(conversations.shopId, q.shopId) : eq(conversations.buyerId, userId),
        after
          ? sql`(${conversations.lastMessageAt}, ${conversations.id}) < (${new Date(after.at)}, ${after.id})`
          : undefined,
      ),
    )
    .orderBy(desc(conversations.lastMessageAt), desc(conversations.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (c) => ({ at: c.lastMessageAt.toISOString(), id: c.id }));
  const unread = await unreadCounts(
    ctx.db,
    page.items.map((c) => c.id),
    side,
  );
  return {
    items: page.items.map((c) => view(c, unread.get(c.id) ?? 0)),
    nextCursor: page.nextCursor,
  };
}

/** One conversation, for its two parties and admins. */
export async function getConversation(ctx: ServiceContext, id: string): Promise<ConversationView> {
  const { conv, viewer } = await access(ctx, id);
  if (viewer === "admin") return view(conv, 0);
  return view(conv, (await unreadCounts(ctx.db, [id], viewer)).get(id) ?? 0);
}

/** A conversation's messages, newest first (parties and admins; anyone else 404). */
export async function listMessages(
  ctx: ServiceContext,
  id: string,
  q: { limit: number; cursor?: string | undefined },
): Promise<Page<MessageView>> {
  await access(ctx, id);
  const after = afterId(q.cursor);
  const rows = await ctx.db
    .select()
    .from(messages)
    .where(and(eq(messages.conversationId, id), after ? lt(messages.id, after) : undefined))
    .orderBy(desc(messages.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (m) => ({ id: m.id }));
  return { items: page.items.map(messageView), nextCursor: page.nextCursor };
}

/** One of the two parties writes; the other side is notified. Admins read but do not write. */
export async function postMessage(
  ctx: ServiceContext,
  id: string,
  raw: z.input<typeof messageInput>,
): Promise<MessageView> {
  const input = parseOr422(messageInput, raw);
  const { conv, viewer } = await access(ctx, id);
  if (viewer === "admin") throw new Forbidden("Admins can read conversations, not write in them.");
  const senderId = actorId(ctx);
  const m = await withAudit(ctx.db, ctx.actor, (tx, audit) =>
    insertMessage(tx, audit, conv, senderId, viewer, input.body),
  );
  const message = messageView(m);
  await tellOtherSide(ctx, conv, message);
  return message;
}

/**
 * Marks everything in the conversation read for the caller's side (audited
 * `conversation.read`); nothing new to read changes nothing. For an admin it changes nothing.
 */
export async function markConversationRead(
  ctx: ServiceContext,
  id: string,
): Promise<ConversationView> {
  const { conv, viewer } = await access(ctx, id);
  if (viewer === "admin") return view(conv, 0);
  const [latest] = await ctx.db
    .select({ id: messages.id })
    .from(messages)
    .where(eq(messages.conversationId, id))
    .orderBy(desc(messages.id))
    .limit(1);
  const upTo = latest?.id ?? null;
  const readCol = viewer === "buyer" ? conversations.buyerReadUpTo : conversations.shopReadUpTo;
  const current = viewer === "buyer" ? conv.buyerReadUpTo : conv.shopReadUpTo;
  if (upTo === null || (current !== null && current >= upTo)) return view(conv, 0);
  const row = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [r] = await tx
      .update(conversations)
      .set(viewer === "buyer" ? { buyerReadUpTo: upTo } : { shopReadUpTo: upTo })
      // Never move a read mark backwards when a later read raced ahead.
      .where(and(eq(conversations.id, id), or(isNull(readCol), lt(readCol, upTo))))
      .returning();
    await audit.record({
      action: "conversation.read",
      entityType: "conversation",
      entityId: id,
      newValue: { side: viewer, upTo },
    });
    return r ?? conv;
  });
  return view(row, (await unreadCounts(ctx.db, [id], viewer)).get(id) ?? 0);
}
