import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { shopLocations, shops } from "../../../src/db/schema/index.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { seedVisibleShop } from "../../helpers/catalog.ts";
import { withDb } from "../../helpers/db.ts";
import { api } from "../../helpers/http.ts";
import { product, setStock, stockShop } from "../../helpers/seller-stock.ts";
import { seedShop } from "../../helpers/shops.ts";

interface Branch {
  id: string;
  name: string;
  address: { city: string } | null;
  openingHours: Record<string, Array<{ open: string; close: string }>>;
  openNow: boolean;
  pickupEnabled: boolean;
}

type Availability = { status: string; quantity: number | null };
interface Fulfilment {
  delivery: { locationId: string; availability: Availability } | null;
  pickup: Array<{ locationId: string; name: string; availability: Availability }>;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** The weekday and hour now on the wall clocks of `timeZone`. */
function clockIn(timeZone: string): { day: string; hour: number } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "short",
    hour: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date());
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  return { day: get("weekday").toLowerCase().slice(0, 3), hour: Number(get("hour")) };
}

/** Hours open from an hour before to two hours after `hour` on `day`. */
function aroundNow(day: string, hour: number) {
  const open = `${pad(Math.max(0, hour - 1))}:00`;
  const close = hour + 2 >= 24 ? "24:00" : `${pad(hour + 2)}:00`;
  return { [day]: [{ open, close }] };
}

async function addBranch(
  shopId: string,
  name: string,
  openingHours: Record<string, unknown>,
  pickupEnabled = true,
) {
  const id = uuidv7();
  await withDb((db) =>
    db.insert(shopLocations).values({
      id,
      shopId,
      kind: "branch",
      name,
      code: name.replace(/\W/g, "").slice(0, 20),
      address: {
        line1: "Main Boulevard 1",
        line2: null,
        city: "Lahore",
        region: null,
        postalCode: null,
        country: "PK",
      },
      openingHours,
      pickupEnabled,
    }),
  );
  return id;
}

describe("GET /v1/shops/{id}/branches", () => {
  it("shows a visible shop's branches with their hours and whether open now in the shop's zone", async () => {
    const shop = await seedVisibleShop();
    const zone = "Asia/Karachi";
    await withDb((db) => db.update(shops).set({ timeZone: zone }).where(eq(shops.id, shop.id)));
    const { day, hour } = clockIn(zone);
    const open = await addBranch(shop.id, "Gulberg", aroundNow(day, hour));
    const closed = await addBranch(shop.id, "Anarkali", {});
    const res = await api<{ timeZone: string; items: Branch[] }>(
      "GET",
      `/v1/shops/${shop.id}/branches`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.timeZone).toBe(zone);
    const byId = new Map(res.body.items.map((b) => [b.id, b]));
    expect(byId.get(open)?.openNow).toBe(true);
    expect(byId.get(closed)?.openNow).toBe(false);
    expect(byId.get(open)?.address?.city).toBe("Lahore");
    // The warehouse is not a branch.
    expect(byId.has(shop.warehouseId)).toBe(false);
  });

  it("reads hours on the shop's clock, not UTC's", async () => {
    const shop = await seedVisibleShop();
    // Twelve hours from UTC either way: the same instant is a different hour there.
    const zone = "Pacific/Kiritimati";
    await withDb((db) => db.update(shops).set({ timeZone: zone }).where(eq(shops.id, shop.id)));
    const utc = clockIn("UTC");
    const id = await addBranch(shop.id, "Dateline", aroundNow(utc.day, utc.hour));
    const res = await api<{ items: Branch[] }>("GET", `/v1/shops/${shop.id}/branches`);
    expect(res.body.items.find((b) => b.id === id)?.openNow).toBe(false);
  });

  it("answers 404 for a shop buyers cannot see", async () => {
    const shop = await seedShop({ status: "pending" });
    expect((await api("GET", `/v1/shops/${shop.id}/branches`)).status).toBe(404);
  });
});

describe("GET /v1/products/{id}: availability per location", () => {
  it("shows delivery from the warehouse and pickup per branch, from the stock object", async () => {
    const shop = await stockShop();
    const paused = await addBranch(shop.id, "Paused", {}, false);
    const p = await product(shop);
    await setStock(shop.owner.accessToken, p.id, shop.warehouseId, 7);
    await setStock(shop.owner.accessToken, p.id, shop.branchId, 2, 3);
    const res = await api<{ availability: Availability; fulfilment: Fulfilment }>(
      "GET",
      `/v1/products/${p.id}`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.availability.quantity).toBe(9);
    expect(res.body.fulfilment.delivery).toEqual({
      locationId: shop.warehouseId,
      availability: { status: "in_stock", quantity: 7 },
    });
    expect(res.body.fulfilment.pickup).toEqual([
      {
        locationId: shop.branchId,
        name: "Branch 1",
        availability: { status: "low_stock", quantity: 2 },
      },
    ]);
    expect(res.body.fulfilment.pickup.map((b) => b.locationId)).not.toContain(paused);
  });

  it("sums only the units a buyer can get: a paused branch's and a retired branch's stay out", async () => {
    const shop = await stockShop();
    const paused = await addBranch(shop.id, "Paused", {}, false);
    const closing = await addBranch(shop.id, "Closing", {});
    const p = await product(shop);
    const t = shop.owner.accessToken;
    await setStock(t, p.id, shop.warehouseId, 4);
    await setStock(t, p.id, paused, 5);
    await setStock(t, p.id, closing, 6);
    const retire = await api<{ result: string }>(
      "DELETE",
      `/v1/seller/shops/${shop.id}/locations/${closing}`,
      { token: t },
    );
    expect(retire.body.result).toBe("retired");
    const res = await api<{ availability: Availability; fulfilment: Fulfilment }>(
      "GET",
      `/v1/products/${p.id}`,
    );
    expect(res.body.availability).toEqual({ status: "in_stock", quantity: 4 });
    expect(res.body.fulfilment.pickup.map((b) => b.locationId)).toEqual([shop.branchId]);
  });

  it("shows a branch without units of the product as out of stock", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    await setStock(shop.owner.accessToken, p.id, shop.warehouseId, 1);
    const res = await api<{ fulfilment: Fulfilment }>("GET", `/v1/products/${p.id}`);
    expect(res.body.fulfilment.pickup[0]?.availability).toEqual({
      status: "out_of_stock",
      quantity: 0,
    });
  });
});
