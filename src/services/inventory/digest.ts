import { and, eq, inArray, isNull } from "drizzle-orm";
import { products } from "../../db/schema/catalog.ts";
import { stockAlerts } from "../../db/schema/inventory.ts";
import { shopLocations, shopMembers, shops } from "../../db/schema/shops.ts";
import { users } from "../../db/schema/users.ts";
import type { ServiceContext } from "../context.ts";
import { notify } from "../notifications/notify.ts";

const MAX_LINES = 50;

/**
 * The daily low-stock digest: for every shop with open alerts, one notice (in-app and email) to
 * its owner and managers listing what is low. Keyed by shop, recipient and UTC day, so a cron
 * that runs twice (crons are at-least-once) sends nothing twice.
 */
export async function sendLowStockDigests(
  ctx: ServiceContext,
  now: Date = new Date(),
): Promise<{ shops: number; notices: number }> {
  const open = await ctx.db
    .select({
      shopId: stockAlerts.shopId,
      shopName: shops.name,
      title: products.title,
      sku: products.sku,
      location: shopLocations.name,
      available: stockAlerts.availableAtRaise,
      threshold: stockAlerts.threshold,
    })
    .from(stockAlerts)
    .innerJoin(shops, eq(shops.id, stockAlerts.shopId))
    .innerJoin(products, eq(products.id, stockAlerts.productId))
    .innerJoin(shopLocations, eq(shopLocations.id, stockAlerts.locationId))
    .where(and(isNull(stockAlerts.clearedAt), isNull(shops.deletedAt), isNull(products.deletedAt)))
    .orderBy(stockAlerts.shopId, products.title);
  if (open.length === 0) return { shops: 0, notices: 0 };

  const byShop = new Map<string, typeof open>();
  for (const row of open) byShop.set(row.shopId, [...(byShop.get(row.shopId) ?? []), row]);

  const recipients = await ctx.db
    .select({ shopId: shopMembers.shopId, userId: users.id, email: users.email })
    .from(shopMembers)
    .innerJoin(users, eq(users.id, shopMembers.userId))
    .where(
      and(
        inArray(shopMembers.shopId, [...byShop.keys()]),
        inArray(shopMembers.role, ["owner", "manager"]),
        isNull(users.deletedAt),
      ),
    );

  const day = now.toISOString().slice(0, 10);
  let notices = 0;
  for (const r of recipients) {
    const lines = byShop.get(r.shopId) ?? [];
    const first = lines[0];
    if (!first) continue;
    const list = lines
      .slice(0, MAX_LINES)
      .map(
        (l) =>
          `- ${l.title} (${l.sku}) at ${l.location}: ${l.available} left (threshold ${l.threshold ?? "–"})`,
      )
      .join("\n");
    const more = lines.length > MAX_LINES ? `\n… and ${lines.length - MAX_LINES} more` : "";
    const title = `${lines.length} product${lines.length === 1 ? " is" : "s are"} low on stock at ${first.shopName}`;
    await notify(ctx.queue, {
      userId: r.userId,
      kind: "stock.low_digest",
      title,
      body: `${list}${more}`,
      data: { shopId: r.shopId, count: lines.length, day },
      dedupeKey: `low-stock-digest:${r.shopId}:${r.userId}:${day}`,
      email: { to: r.email, subject: title, text: `${title}:\n\n${list}${more}` },
    });
    notices += 1;
  }
  return { shops: byShop.size, notices };
}
