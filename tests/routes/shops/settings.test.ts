import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, orders, products } from "../../../src/db/schema/index.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { createProduct, seedCategory, seedVisibleShop } from "../../helpers/catalog.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { shopBody } from "../../helpers/shop-support.ts";
import { seedMember, seedShop } from "../../helpers/shops.ts";
import { registerUser, type TestUser } from "../../helpers/users.ts";

interface Settings {
  id: string;
  name: string;
  description: string;
  currency: string;
  contactEmail: string;
  emailVerifiedAt: string | null;
  visible: boolean;
  timeZone: string;
  deliveryFeeMinor: number | null;
  freeDeliveryMinMinor: number | null;
}

const update = (by: TestUser, shopId: string, body: unknown) =>
  api<Settings & Problem>("PATCH", `/v1/shops/${shopId}`, { token: by.accessToken, body });

describe("PATCH /v1/shops/{id}", () => {
  it("lets the owner change profile, time zone and delivery fees, audited old and new", async () => {
    const shop = await seedShop();
    const res = await update(shop.owner, shop.id, {
      name: "Shuk Hacarmel Greens",
      timeZone: "asia/jerusalem",
      deliveryFeeMinor: 1500,
      freeDeliveryMinMinor: 20000,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      name: "Shuk Hacarmel Greens",
      timeZone: "Asia/Jerusalem",
      deliveryFeeMinor: 1500,
      freeDeliveryMinMinor: 20000,
    });
    const [row] = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, shop.id), eq(auditLog.action, "shop.updated"))),
    );
    expect(row?.oldValue).toEqual({
      name: `Shop ${shop.slug}`,
      timeZone: "UTC",
      deliveryFeeMinor: null,
      freeDeliveryMinMinor: null,
    });
    expect(row?.newValue).toEqual({
      name: "Shuk Hacarmel Greens",
      timeZone: "Asia/Jerusalem",
      deliveryFeeMinor: 1500,
      freeDeliveryMinMinor: 20000,
    });
  });

  it("keeps the delivery windows at the same local times when the time zone changes", async () => {
    const shop = await seedShop();
    const schedule = `/v1/seller/shops/${shop.id}/delivery-slots/schedule`;
    const put = await api("PUT", schedule, {
      token: shop.owner.accessToken,
      body: {
        capacity: 2,
        cutoffMinutes: 120,
        days: [{ weekday: "mon", windows: [{ start: "08:00" }] }],
      },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    await update(shop.owner, shop.id, { timeZone: "Asia/Karachi" });
    const after = await api<{ timeZone: string; days: unknown }>("GET", schedule, {
      token: shop.owner.accessToken,
    });
    expect(after.body.timeZone).toBe("Asia/Karachi");
    expect(JSON.stringify(after.body.days)).toContain("08:00");
  });

  it("returns delivery fees to the platform defaults with null", async () => {
    const shop = await seedShop();
    await update(shop.owner, shop.id, { deliveryFeeMinor: 900 });
    const res = await update(shop.owner, shop.id, { deliveryFeeMinor: null });
    expect(res.body.deliveryFeeMinor).toBeNull();
  });

  it("lets a manager change delivery fees and the phone, nothing else; staff nothing", async () => {
    const shop = await seedShop();
    const [manager, staff] = await Promise.all([registerUser("seller"), registerUser("buyer")]);
    await seedMember(shop.id, manager, "manager");
    await seedMember(shop.id, staff, "staff");
    const fees = await update(manager, shop.id, {
      deliveryFeeMinor: 700,
      contactPhone: "+972501234567",
    });
    expect(fees.status, JSON.stringify(fees.body)).toBe(200);
    expect((await update(manager, shop.id, { name: "Mine now" })).status).toBe(403);
    expect((await update(staff, shop.id, { deliveryFeeMinor: 1 })).status).toBe(403);
  });

  it("answers 404 to someone outside the shop", async () => {
    const shop = await seedShop();
    const outsider = await registerUser("seller");
    expect((await update(outsider, shop.id, { name: "Taken over" })).status).toBe(404);
  });

  it("refuses an unknown time zone and an empty change, naming the field", async () => {
    const shop = await seedShop();
    const zone = await update(shop.owner, shop.id, { timeZone: "Mars/Olympus_Mons" });
    expect(zone.status).toBe(422);
    expect(zone.body.errors?.[0]?.field).toBe("timeZone");
    const offset = await update(shop.owner, shop.id, { timeZone: "+02:00" });
    expect(offset.status).toBe(422);
    expect((await update(shop.owner, shop.id, {})).status).toBe(422);
  });

  it("changes the currency while the shop has no orders, its products along", async () => {
    const shop = await seedVisibleShop();
    const category = await seedCategory();
    const p = await createProduct(shop.owner.accessToken, {
      shopId: shop.id,
      categoryId: category.id,
    });
    const res = await update(shop.owner, shop.id, { currency: "PKR" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.currency).toBe("PKR");
    const [row] = await withDb((db) =>
      db.select({ currency: products.currency }).from(products).where(eq(products.id, p.id)),
    );
    expect(row?.currency).toBe("PKR");
    const detail = await api<{ currency: string }>("GET", `/v1/products/${p.id}`);
    expect(detail.body.currency).toBe("PKR");
  });

  it("refuses a currency change once the shop has an order (409 naming currency)", async () => {
    const shop = await seedShop();
    const buyer = await registerUser("buyer");
    await withDb((db) =>
      db.insert(orders).values({
        id: uuidv7(),
        buyerId: buyer.id,
        shopId: shop.id,
        status: "delivered",
        currency: "EUR",
        subtotalMinor: 1000,
        platformFeeMinor: 50,
        totalMinor: 1000,
      }),
    );
    const res = await update(shop.owner, shop.id, { currency: "ILS" });
    expect(res.status).toBe(409);
    expect(res.body.errors?.[0]?.field).toBe("currency");
  });

  it("hides the shop from buyers until a new contact email is verified", async () => {
    const shop = await seedVisibleShop();
    expect((await api("GET", `/v1/shops/${shop.id}`)).status).toBe(200);
    const res = await update(shop.owner, shop.id, { contactEmail: "New-Desk@Example.test" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      contactEmail: "new-desk@example.test",
      emailVerifiedAt: null,
      visible: false,
    });
    expect((await api("GET", `/v1/shops/${shop.id}`)).status).toBe(404);
  });

  it("shows the new name on the shop's products at once (catalog cache invalidated)", async () => {
    const shop = await seedVisibleShop();
    const category = await seedCategory();
    const p = await createProduct(shop.owner.accessToken, {
      shopId: shop.id,
      categoryId: category.id,
    });
    await api("GET", `/v1/products/${p.id}`); // cached with the old name
    await update(shop.owner, shop.id, { name: "Karachi Spice House" });
    const detail = await api<{ shop: { name: string } }>("GET", `/v1/products/${p.id}`);
    expect(detail.body.shop.name).toBe("Karachi Spice House");
  });
});

describe("POST /v1/shops with a time zone", () => {
  it("keeps the zone it is opened with, spelled the IANA way", async () => {
    const seller = await registerUser("seller");
    const res = await api<{ id: string }>("POST", "/v1/shops", {
      token: seller.accessToken,
      body: shopBody({ currency: "PKR", country: "PK", timeZone: "asia/karachi" }),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const settings = await api<Settings>("GET", `/v1/seller/shops/${res.body.id}/settings`, {
      token: seller.accessToken,
    });
    expect(settings.body.timeZone).toBe("Asia/Karachi");
  });
});

describe("shops in shekels and rupees", () => {
  it("opens shops priced in ILS and PKR", async () => {
    const seller = await registerUser("seller");
    for (const currency of ["ILS", "PKR"]) {
      const res = await api<{ currency: string }>("POST", "/v1/shops", {
        token: seller.accessToken,
        body: shopBody({ currency }),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.currency).toBe(currency);
    }
  });
});

describe("GET /v1/seller/shops/{id}/settings", () => {
  it("shows any member the time zone and delivery fee rules", async () => {
    const shop = await seedShop();
    const staff = await registerUser("buyer");
    await seedMember(shop.id, staff, "staff");
    const res = await api<Settings>("GET", `/v1/seller/shops/${shop.id}/settings`, {
      token: staff.accessToken,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      timeZone: "UTC",
      deliveryFeeMinor: null,
      freeDeliveryMinMinor: null,
    });
  });
});
