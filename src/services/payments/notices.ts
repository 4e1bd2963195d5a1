import { and, eq, inArray, isNull } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import type { Order } from "../../db/schema/orders.ts";
import { shops } from "../../db/schema/shops.ts";
import { users } from "../../db/schema/users.ts";
import { formatMoney } from "../../lib/currencies.ts";
import type { ServiceContext } from "../context.ts";
import type { NotificationInput } from "../notifications/message.ts";
import { notifyAfterCommit } from "../notifications/notify.ts";

/**
 * The money path's notices. Each has a dedupe key derived from what it reports (an order, an
 * issue), so sending again after a retry or a second delivery writes and mails nothing twice.
 * They are sent after the change commits; a queue hiccup is logged, never undoes the change.
 */
export async function sendNotices(
  ctx: ServiceContext,
  notices: readonly NotificationInput[],
): Promise<void> {
  for (const n of notices) await notifyAfterCommit(ctx.queue, ctx.logger, n);
}

const money = formatMoney;

const short = (id: string) => id.slice(-8);

async function emailsOf(db: Queryable, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(and(inArray(users.id, ids), isNull(users.deletedAt)));
  return new Map(rows.map((r) => [r.id, r.email]));
}

/** The buyer's receipt and each shop owner's "new paid order", per order. */
export async function paidNotices(
  db: Queryable,
  paid: readonly Order[],
): Promise<NotificationInput[]> {
  if (paid.length === 0) return [];
  const shopRows = await db
    .select({ id: shops.id, ownerId: shops.ownerId, name: shops.name })
    .from(shops)
    .where(
      inArray(
        shops.id,
        paid.map((o) => o.shopId),
      ),
    );
  const shopById = new Map(shopRows.map((s) => [s.id, s]));
  const emails = await emailsOf(db, [
    ...paid.map((o) => o.buyerId),
    ...shopRows.map((s) => s.ownerId),
  ]);
  const out: NotificationInput[] = [];
  for (const o of paid) {
    const shop = shopById.get(o.shopId);
    const total = money(o.totalMinor, o.currency);
    const buyerEmail = emails.get(o.buyerId);
    const title = `Payment received for order ${short(o.id)}`;
    const tax = o.taxMinor > 0 ? ` (of which tax ${money(o.taxMinor, o.currency)})` : "";
    const body = `We received ${total}${tax} for your order from ${shop?.name ?? "the shop"}. The shop has been told to prepare it.`;
    out.push({
      userId: o.buyerId,
      kind: "order.paid",
      title,
      body,
      data: { orderId: o.id, checkoutId: o.checkoutId },
      dedupeKey: `order-paid:${o.id}:buyer`,
      ...(buyerEmail ? { email: { to: buyerEmail, subject: title, text: body } } : {}),
    });
    if (shop) {
      const ownerEmail = emails.get(shop.ownerId);
      const sellerTitle = `New paid order ${short(o.id)}`;
      const sellerBody = `Order ${o.id} (${total}) is paid and ready to pick.`;
      out.push({
        userId: shop.ownerId,
        kind: "order.new",
        title: sellerTitle,
        body: sellerBody,
        data: { orderId: o.id, shopId: shop.id },
        dedupeKey: `order-paid:${o.id}:shop`,
        ...(ownerEmail
          ? { email: { to: ownerEmail, subject: sellerTitle, text: sellerBody } }
          : {}),
      });
    }
  }
  return out;
}

/** One notice to one user (the buyer about their orders, an owner about their shop). */
export async function userNotice(
  db: Queryable,
  input: {
    userId: string;
    kind: string;
    title: string;
    body: string;
    dedupeKey: string;
    data: Record<string, unknown>;
  },
): Promise<NotificationInput> {
  const email = (await emailsOf(db, [input.userId])).get(input.userId);
  return {
    userId: input.userId,
    kind: input.kind,
    title: input.title,
    body: input.body,
    data: input.data,
    dedupeKey: input.dedupeKey,
    ...(email ? { email: { to: email, subject: input.title, text: input.body } } : {}),
  };
}

/** Every live, unblocked admin gets one in-app notice (and email) per payment issue. */
export async function adminIssueNotices(
  db: Queryable,
  issue: { id: string; kind: string; summary: string; data: Record<string, unknown> },
): Promise<NotificationInput[]> {
  const admins = await db
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(and(eq(users.role, "admin"), isNull(users.deletedAt), isNull(users.blockedAt)));
  const title = `Payment issue: ${issue.kind.replaceAll("_", " ")}`;
  return admins.map((a) => ({
    userId: a.id,
    kind: "payment.issue",
    title,
    body: issue.summary,
    data: { issueId: issue.id, kind: issue.kind, ...issue.data },
    dedupeKey: `payment-issue:${issue.id}:${a.id}`,
    email: { to: a.email, subject: title, text: issue.summary },
  }));
}

export { money };
