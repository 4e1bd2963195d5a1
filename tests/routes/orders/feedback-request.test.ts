import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { notifications, outboundMessages } from "../../../src/db/schema/index.ts";
import { createLogger } from "../../../src/lib/logger.ts";
import { askForFeedback } from "../../../src/services/notifications/feedback-request.ts";
import { withDb } from "../../helpers/db.ts";
import { eventually } from "../../helpers/eventually.ts";
import { buyerPost, paidOrder, sellerPost } from "../../helpers/orders.ts";
import { waitForMail } from "../../helpers/shop-support.ts";

/** Rows the feedback request for `orderId` left: in-app notifications and emails sent. */
const requestRows = (orderId: string) =>
  withDb(async (db) => {
    const key = `feedback-request:${orderId}`;
    const inApp = await db.select().from(notifications).where(eq(notifications.dedupeKey, key));
    const mails = await db
      .select()
      .from(outboundMessages)
      .where(and(eq(outboundMessages.dedupeKey, key), eq(outboundMessages.channel, "email")));
    return { inApp, mails };
  });

describe("feedback request after an order is received", () => {
  it("asks the buyer once, in the app and by email, however often it is sent", async () => {
    const f = await paidOrder();
    const item = f.order.items[0];
    if (!item) throw new Error("seed");
    await sellerPost(f.owner, `/${f.order.id}/items/${item.id}/picked`);
    const shipped = await sellerPost(f.owner, `/${f.order.id}/ship`, {
      carrier: "CTT",
      trackingNumber: "RR123456789PT",
    });
    expect(shipped.status).toBe(200);
    expect((await buyerPost(f.buyer, `/${f.order.id}/received`)).status).toBe(200);

    const mail = await waitForMail(f.buyer.email);
    expect(mail.subject).toMatch(/^How was your order from /);
    const first = await eventually(async () => {
      const rows = await requestRows(f.order.id);
      return rows.inApp.length > 0 && rows.mails.length > 0 ? rows : undefined;
    });
    expect(first.inApp[0]).toMatchObject({
      userId: f.buyer.id,
      kind: "order.feedback_requested",
      data: { orderId: f.order.id },
    });

    // Received again is refused, and asking again (a retry) adds nothing.
    expect((await buyerPost(f.buyer, `/${f.order.id}/received`)).status).toBe(409);
    await withDb((db) =>
      askForFeedback({ db, queue: env.NOTIFICATIONS, logger: createLogger("error") }, f.order.id),
    );
    await new Promise((r) => setTimeout(r, 3_000));
    const after = await requestRows(f.order.id);
    expect(after.inApp).toHaveLength(1);
    expect(after.mails).toHaveLength(1);
  });
});
