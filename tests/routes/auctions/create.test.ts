import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, shops } from "../../../src/db/schema/index.ts";
import { auctionProduct, auctionRow, openAuction, roomStub } from "../../helpers/auctions.ts";
import { createProduct, seedCategory, seedVisibleShop } from "../../helpers/catalog.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { seedMember } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

const inAnHour = () => new Date(Date.now() + 60 * 60_000).toISOString();

function create(token: string, body: Record<string, unknown>) {
  return api<Problem & { id: string; status: string }>("POST", "/v1/seller/auctions", {
    token,
    body,
  });
}

describe("POST /v1/seller/auctions", () => {
  it("opens an auction: the Postgres row, its audit row and a configured object", async () => {
    const setup = await auctionProduct();
    const auction = await openAuction(setup, {
      startPriceMinor: 1000,
      reservePriceMinor: 5000,
      buyNowPriceMinor: 9000,
    });
    expect(auction).toMatchObject({
      status: "active",
      reservePriceMinor: 5000,
      buyNowPriceMinor: 9000,
      priceMinor: 1000,
    });
    const state = await roomStub(auction.id).state();
    expect(state).toMatchObject({
      status: "active",
      hasReserve: true,
      reserveMet: false,
      buyNowAvailable: true,
      minimumNextBidMinor: 1000,
      softCloseSeconds: 120,
      maxExtensionSeconds: 3600,
    });
    expect(JSON.stringify(state)).not.toContain("5000");
    expect((await auctionRow(auction.id))?.configuredAt).not.toBeNull();
    const audits = await withDb((db) =>
      db.select().from(auditLog).where(eq(auditLog.entityId, auction.id)),
    );
    expect(audits.map((a) => a.action)).toContain("auction.created");
  });

  it("answers 422 naming every bad field", async () => {
    const setup = await auctionProduct();
    const token = setup.shop.owner.accessToken;
    const bad = await create(token, {
      productId: "not-a-uuid",
      startPriceMinor: 0,
      endsAt: "tomorrow",
      softCloseSeconds: -1,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.map((e) => e.field).sort()).toEqual(
      ["endsAt", "productId", "softCloseSeconds", "startPriceMinor"].sort(),
    );

    const rules = await create(token, {
      productId: setup.productId,
      startPriceMinor: 1000,
      reservePriceMinor: 500,
      buyNowPriceMinor: 1299,
      endsAt: inAnHour(),
    });
    expect(rules.status).toBe(422);
    expect(rules.body.errors?.map((e) => e.field).sort()).toEqual(
      ["buyNowPriceMinor", "reservePriceMinor"].sort(),
    );
    expect(rules.body.errors?.find((e) => e.field === "buyNowPriceMinor")?.message).toContain(
      "1300",
    );

    const times = await create(token, {
      productId: setup.productId,
      startPriceMinor: 1000,
      startsAt: new Date(Date.now() - 10 * 60_000).toISOString(),
      endsAt: new Date(Date.now() - 60_000).toISOString(),
    });
    expect(times.status).toBe(422);
    expect(times.body.errors?.map((e) => e.field).sort()).toEqual(["endsAt", "startsAt"]);

    const tooLong = await create(token, {
      productId: setup.productId,
      startPriceMinor: 1000,
      endsAt: new Date(Date.now() + 31 * 24 * 3_600_000).toISOString(),
    });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.errors?.map((e) => e.field)).toEqual(["endsAt"]);

    // Exactly 30% above the start is allowed.
    const edge = await create(token, {
      productId: setup.productId,
      startPriceMinor: 1001,
      buyNowPriceMinor: 1302,
      endsAt: inAnHour(),
    });
    expect(edge.status, JSON.stringify(edge.body)).toBe(201);
  });

  it("keeps one open auction per product and refuses fixed-price products", async () => {
    const setup = await auctionProduct();
    await openAuction(setup);
    const again = await create(setup.shop.owner.accessToken, {
      productId: setup.productId,
      startPriceMinor: 1000,
      endsAt: inAnHour(),
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: "CONFLICT", reason: "auction_open" });

    const fixed = await createProduct(setup.shop.owner.accessToken, {
      shopId: setup.shop.id,
      categoryId: setup.categoryId,
      listingType: "fixed",
    });
    const refused = await create(setup.shop.owner.accessToken, {
      productId: fixed.id,
      startPriceMinor: 1000,
      endsAt: inAnHour(),
    });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ reason: "not_auction_listing" });
  });

  it("lets owners and managers open auctions, not staff (403) nor strangers (404)", async () => {
    const setup = await auctionProduct();
    const [manager, staff, stranger] = await Promise.all([
      registerUser("seller"),
      registerUser("seller"),
      registerUser("seller"),
    ]);
    await seedMember(setup.shop.id, manager, "manager");
    await seedMember(setup.shop.id, staff, "staff");
    const body = { productId: setup.productId, startPriceMinor: 1000, endsAt: inAnHour() };
    expect((await create(staff.accessToken, body)).status).toBe(403);
    expect((await create(stranger.accessToken, body)).status).toBe(404);
    expect((await create(manager.accessToken, body)).status).toBe(201);
  });

  it("refuses a shop without payouts", async () => {
    const shop = await seedVisibleShop({ payoutsEnabled: true });
    const category = await seedCategory();
    const product = await createProduct(shop.owner.accessToken, {
      shopId: shop.id,
      categoryId: category.id,
      listingType: "auction",
    });
    await withDb((db) =>
      db.update(shops).set({ payoutsEnabled: false }).where(eq(shops.id, shop.id)),
    );
    const res = await create(shop.owner.accessToken, {
      productId: product.id,
      startPriceMinor: 1000,
      endsAt: inAnHour(),
    });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ reason: "shop_not_ready", payoutsEnabled: false });
  });
});
