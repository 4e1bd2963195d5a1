import {
  createExecutionContext,
  createScheduledController,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { notifications, stockAlerts } from "../../src/db/schema/index.ts";
import worker from "../../src/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { createProduct, seedCategory, seedVisibleShop } from "../helpers/catalog.ts";
import { withDb } from "../helpers/db.ts";
import { eventually, sleep } from "../helpers/eventually.ts";
import { seedMember } from "../helpers/shops.ts";
import { registerUser } from "../helpers/users.ts";

async function runDigestCron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(
    createScheduledController({ cron: "0 7 * * *", scheduledTime: new Date() }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
}

async function digestsFor(userId: string) {
  return withDb((db) =>
    db
      .select()
      .from(notifications)
      .where(
        and(eq(notifications.userId, userId), like(notifications.dedupeKey, "low-stock-digest:%")),
      ),
  );
}

describe("low-stock digest cron", () => {
  it("sends the owner and each manager one digest of open alerts, however often it runs", async () => {
    const shop = await seedVisibleShop();
    const manager = await registerUser("seller");
    const staff = await registerUser("seller");
    await seedMember(shop.id, manager, "manager");
    await seedMember(shop.id, staff, "staff");
    const category = await seedCategory();
    const product = await createProduct(shop.owner.accessToken, {
      shopId: shop.id,
      categoryId: category.id,
      title: "Glazed mug",
    });
    await withDb((db) =>
      db.insert(stockAlerts).values({
        id: uuidv7(),
        shopId: shop.id,
        productId: product.id,
        locationId: shop.warehouseId,
        threshold: 5,
        availableAtRaise: 2,
        raisedMovementId: uuidv7(),
        raisedSequence: 7,
        raisedAt: new Date(),
      }),
    );

    await runDigestCron();
    await runDigestCron();

    const some = async (id: string) => {
      const rows = await digestsFor(id);
      return rows.length > 0 ? rows : undefined;
    };
    const owner = await eventually(() => some(shop.owner.id), undefined, "the owner's digest");
    const mgr = await eventually(() => some(manager.id), undefined, "the manager's digest");
    // Give a duplicate time to show up if the dedupe were broken.
    await sleep(1500);
    expect(await digestsFor(shop.owner.id)).toHaveLength(1);
    expect(await digestsFor(manager.id)).toHaveLength(1);
    expect(owner[0]?.body).toContain("Glazed mug");
    expect(owner[0]?.body).toContain("2 left (threshold 5)");
    expect(mgr[0]?.title).toMatch(/1 product is low on stock/);
    expect(await digestsFor(staff.id)).toHaveLength(0);
  });
});
