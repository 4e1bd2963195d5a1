import { and, eq, isNull } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { feedback } from "../../db/schema/community.ts";
import { orders } from "../../db/schema/orders.ts";
import { shops } from "../../db/schema/shops.ts";
import { users } from "../../db/schema/users.ts";
import type { Logger } from "../../lib/logger.ts";
import { type NotificationQueue, notifyAfterCommit } from "./notify.ts";

/**
 * Asks the buyer of an order that reached them (received, or collected at a branch) to rate it:
 * an in-app notification and an email. Once per order: the dedupe key is the order's, so a retry
 * or a second call writes and mails nothing more, and an order already rated is not asked about.
 * Call it after the status change commits; a queue failure is logged, never undoes it.
 */
export async function askForFeedback(
  deps: { db: Queryable; queue: NotificationQueue; logger: Logger },
  orderId: string,
): Promise<void> {
  const [row] = await deps.db
    .select({
      buyerId: orders.buyerId,
      shopId: orders.shopId,
      shopName: shops.name,
      email: users.email,
      rated: feedback.id,
    })
    .from(orders)
    .innerJoin(shops, eq(shops.id, orders.shopId))
    .innerJoin(users, and(eq(users.id, orders.buyerId), isNull(users.deletedAt)))
    .leftJoin(feedback, eq(feedback.orderId, orders.id))
    .where(eq(orders.id, orderId));
  if (!row || row.rated) return;
  const title = `How was your order from ${row.shopName}?`;
  const body =
    `Your order ${orderId.slice(-8)} from ${row.shopName} has reached you. A rating and a few ` +
    "words help other buyers choose, and help the shop do better. You can rate it once, from " +
    "the order.";
  await notifyAfterCommit(deps.queue, deps.logger, {
    userId: row.buyerId,
    kind: "order.feedback_requested",
    title,
    body,
    data: { orderId, shopId: row.shopId },
    dedupeKey: `feedback-request:${orderId}`,
    email: { to: row.email, subject: title, text: body },
  });
}
