import { and, eq, like } from "drizzle-orm";
import { notifications, orders } from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { withDb } from "./db.ts";
import { eventually } from "./eventually.ts";

type OrderStatus = (typeof orders.$inferInsert)["status"];

/** An order straight into Postgres in the state a test needs (the money path is tested elsewhere). */
export async function seedOrder(
  buyerId: string,
  shopId: string,
  status: OrderStatus = "delivered",
): Promise<string> {
  const id = uuidv7();
  await withDb((db) =>
    db.insert(orders).values({
      id,
      buyerId,
      shopId,
      status,
      currency: "EUR",
      subtotalMinor: 1000,
      platformFeeMinor: 100,
      totalMinor: 1000,
    }),
  );
  return id;
}

/** The in-app notifications of a user whose dedupe key starts with `prefix`. */
export function noticesOf(userId: string, prefix: string) {
  return withDb((db) =>
    db
      .select({ kind: notifications.kind, dedupeKey: notifications.dedupeKey })
      .from(notifications)
      .where(and(eq(notifications.userId, userId), like(notifications.dedupeKey, `${prefix}%`))),
  );
}

/** Waits until the user has a notification whose dedupe key starts with `prefix`. */
export function waitForNotice(userId: string, prefix: string) {
  return eventually(
    async () => {
      const rows = await noticesOf(userId, prefix);
      return rows.length > 0 ? rows : undefined;
    },
    15_000,
    `a ${prefix} notice for ${userId}`,
  );
}
