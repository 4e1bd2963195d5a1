import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { intelligenceRuns } from "../../src/db/schema/index.ts";
import { createProduct, seedCategory } from "../helpers/catalog.ts";
import { withDb } from "../helpers/db.ts";
import { eventually } from "../helpers/eventually.ts";
import { seedShop } from "../helpers/shops.ts";

describe("the intelligence queue", () => {
  it("recomputes the shop a message names, in the consumer", async () => {
    const [shop, category] = await Promise.all([seedShop(), seedCategory()]);
    await createProduct(shop.owner.accessToken, { shopId: shop.id, categoryId: category.id });

    await env.INTELLIGENCE.send({ shopId: shop.id });

    const run = await eventually(
      () =>
        withDb(async (db) => {
          const [row] = await db
            .select()
            .from(intelligenceRuns)
            .where(eq(intelligenceRuns.shopId, shop.id));
          return row;
        }),
      20_000,
      "the shop's intelligence run",
    );
    expect(run.shopId).toBe(shop.id);
  });
});
