import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, shopLocations } from "../../../src/db/schema/index.ts";
import { addToCart, buyer, buyShop, stockedProduct } from "../../helpers/cart.ts";
import { confirm, preview } from "../../helpers/checkout.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { adjust, flush, product, setStock, stockShop } from "../../helpers/seller-stock.ts";
import { seedMember, seedShop } from "../../helpers/shops.ts";
import { registerUser, type TestUser } from "../../helpers/users.ts";

interface Location {
  id: string;
  kind: "warehouse" | "branch";
  name: string;
  code: string;
  address: Record<string, unknown> | null;
  coordinates: { latitude: number; longitude: number } | null;
  openingHours: Record<string, Array<{ open: string; close: string }>>;
  pickupEnabled: boolean;
  retiredAt: string | null;
}

const path = (shopId: string) => `/v1/seller/shops/${shopId}/locations`;

const branchBody = (extra: Record<string, unknown> = {}) => ({
  kind: "branch",
  name: "Dizengoff",
  code: `BR-${crypto.randomUUID().slice(0, 6)}`,
  address: { line1: "Dizengoff St 50", city: "Tel Aviv", postalCode: "6433222", country: "il" },
  coordinates: { latitude: 32.0775, longitude: 34.7741 },
  openingHours: {
    sun: [{ open: "08:00", close: "20:00" }],
    fri: [
      { open: "08:00", close: "11:00" },
      { open: "12:00", close: "14:30" },
    ],
  },
  ...extra,
});

const create = (by: TestUser, shopId: string, body: Record<string, unknown>) =>
  api<Location & Problem>("POST", path(shopId), { token: by.accessToken, body });

const list = (by: TestUser, shopId: string, query = "") =>
  api<{ items: Location[] } & Problem>("GET", `${path(shopId)}${query}`, {
    token: by.accessToken,
  });

const patch = (by: TestUser, shopId: string, id: string, body: Record<string, unknown>) =>
  api<Location & Problem>("PATCH", `${path(shopId)}/${id}`, { token: by.accessToken, body });

const remove = (by: TestUser, shopId: string, id: string) =>
  api<{ result: string; location: Location } & Problem>("DELETE", `${path(shopId)}/${id}`, {
    token: by.accessToken,
  });

describe("/v1/seller/shops/{id}/locations", () => {
  it("lets the owner add a branch with its address, coordinates, hours and pickup on", async () => {
    const shop = await seedShop();
    const res = await create(shop.owner, shop.id, branchBody());
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      kind: "branch",
      name: "Dizengoff",
      address: { line1: "Dizengoff St 50", country: "IL", line2: null, region: null },
      coordinates: { latitude: 32.0775, longitude: 34.7741 },
      openingHours: { sun: [{ open: "08:00", close: "20:00" }] },
      pickupEnabled: true,
      retiredAt: null,
    });
    const listed = await list(shop.owner, shop.id);
    expect(listed.body.items.map((l) => [l.kind, l.id])).toEqual([
      ["warehouse", shop.warehouseId],
      ["branch", res.body.id],
    ]);
    const audits = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, shop.id), eq(auditLog.action, "shop.location.created"))),
    );
    expect(audits).toHaveLength(1);
  });

  it("keeps one warehouse in use per shop and codes unique per shop (409 naming the field)", async () => {
    const shop = await seedShop();
    const second = await create(shop.owner, shop.id, { kind: "warehouse", name: "W2", code: "W2" });
    expect(second.status).toBe(409);
    expect(second.body.errors?.[0]?.field).toBe("kind");
    const taken = await create(shop.owner, shop.id, branchBody({ code: "WH" }));
    expect(taken.status).toBe(409);
    expect(taken.body.errors?.[0]?.field).toBe("code");
  });

  it("refuses hours that are not HH:MM, closing before they open, or overlapping", async () => {
    const shop = await seedShop();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ mon: [{ open: "8:00", close: "20:00" }] }, "openingHours.mon.0.open"],
      [{ mon: [{ open: "20:00", close: "08:00" }] }, "openingHours.mon.0.close"],
      [
        {
          tue: [
            { open: "08:00", close: "12:00" },
            { open: "11:00", close: "14:00" },
          ],
        },
        "openingHours.tue.1.open",
      ],
      [{ monday: [{ open: "08:00", close: "20:00" }] }, "openingHours"],
    ];
    for (const [openingHours, field] of cases) {
      const res = await create(shop.owner, shop.id, branchBody({ openingHours }));
      expect(res.status, JSON.stringify(openingHours)).toBe(422);
      expect(res.body.errors?.map((e) => e.field).join(",")).toContain(field);
    }
  });

  it("needs an address for a branch and refuses pickup at a warehouse", async () => {
    const shop = await seedShop();
    const noAddress = await create(shop.owner, shop.id, branchBody({ address: null }));
    expect(noAddress.status).toBe(422);
    expect(noAddress.body.errors?.[0]?.field).toBe("address");
    const pickup = await patch(shop.owner, shop.id, shop.warehouseId, { pickupEnabled: true });
    expect(pickup.status).toBe(422);
    expect(pickup.body.errors?.[0]?.field).toBe("pickupEnabled");
  });

  it("lets a manager change hours and pickup but not the name; staff read only", async () => {
    const shop = await seedShop();
    const [manager, staff] = await Promise.all([registerUser("seller"), registerUser("buyer")]);
    await seedMember(shop.id, manager, "manager");
    await seedMember(shop.id, staff, "staff");
    const branch = (await create(shop.owner, shop.id, branchBody())).body;
    const hours = await patch(manager, shop.id, branch.id, {
      openingHours: { sat: [{ open: "09:00", close: "13:00" }] },
      pickupEnabled: false,
    });
    expect(hours.status, JSON.stringify(hours.body)).toBe(200);
    expect(hours.body.openingHours).toEqual({ sat: [{ open: "09:00", close: "13:00" }] });
    expect(hours.body.pickupEnabled).toBe(false);
    expect((await patch(manager, shop.id, branch.id, { name: "Renamed" })).status).toBe(403);
    expect((await list(staff, shop.id)).status).toBe(200);
    expect((await patch(staff, shop.id, branch.id, { pickupEnabled: true })).status).toBe(403);
    expect((await create(manager, shop.id, branchBody())).status).toBe(403);
  });

  it("answers 404 to someone outside the shop", async () => {
    const shop = await seedShop();
    const outsider = await registerUser("seller");
    expect((await list(outsider, shop.id)).status).toBe(404);
    expect((await create(outsider, shop.id, branchBody())).status).toBe(404);
    expect((await remove(outsider, shop.id, shop.warehouseId)).status).toBe(404);
  });

  it("deletes a location nothing names", async () => {
    const shop = await seedShop();
    const branch = (await create(shop.owner, shop.id, branchBody())).body;
    const res = await remove(shop.owner, shop.id, branch.id);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.result).toBe("deleted");
    const rows = await withDb((db) =>
      db.select().from(shopLocations).where(eq(shopLocations.id, branch.id)),
    );
    expect(rows).toHaveLength(0);
  });

  it("retires a location holding stock: kept, off the list, refused to stock writes", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    await setStock(shop.owner.accessToken, p.id, shop.branchId, 4);
    await flush(p.id);
    const res = await remove(shop.owner, shop.id, shop.branchId);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.result).toBe("retired");
    expect(res.body.location.retiredAt).not.toBeNull();
    expect((await list(shop.owner, shop.id)).body.items.map((l) => l.id)).toEqual([
      shop.warehouseId,
    ]);
    const all = await list(shop.owner, shop.id, "?includeRetired=true");
    expect(all.body.items.map((l) => l.id)).toContain(shop.branchId);
    const write = await adjust(shop.owner.accessToken, p.id, {
      locationId: shop.branchId,
      mode: "delta",
      quantity: 1,
      reason: "late delivery",
    });
    expect(write.status).toBe(422);
  });

  it("retires a location whose stock the mirror has not caught up with yet", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    await setStock(shop.owner.accessToken, p.id, shop.branchId, 2);
    // No flush: only the stock object knows the branch holds units.
    const res = await remove(shop.owner, shop.id, shop.branchId);
    expect(res.body.result).toBe("retired");
  });

  it("brings a retired location back with retired: false, audited", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    await setStock(shop.owner.accessToken, p.id, shop.branchId, 1);
    await remove(shop.owner, shop.id, shop.branchId);
    const back = await patch(shop.owner, shop.id, shop.branchId, { retired: false });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(back.body.retiredAt).toBeNull();
    const actions = await withDb((db) =>
      db
        .select({ action: auditLog.action })
        .from(auditLog)
        .where(and(eq(auditLog.entityId, shop.id), like(auditLog.action, "shop.location.%"))),
    );
    expect(actions.map((a) => a.action).sort()).toEqual([
      "shop.location.reinstated",
      "shop.location.retired",
    ]);
  });

  it("takes a branch with pickup switched off out of checkout, and back when on", async () => {
    const shop = await buyShop();
    const [p, u] = await Promise.all([stockedProduct(shop, { branch: 3 }), buyer()]);
    await addToCart(u, p.id, 1);
    const body = { fulfilment: [{ shopId: shop.id, method: "pickup", locationId: shop.branchId }] };
    expect((await preview(u, body)).status).toBe(200);
    await patch(shop.owner, shop.id, shop.branchId, { pickupEnabled: false });
    const off = await preview(u, body);
    expect(off.status).toBe(422);
    expect(off.body.errors?.[0]?.field).toBe("fulfilment.0.locationId");
    expect((await confirm(u, body)).status).toBe(422);
    await patch(shop.owner, shop.id, shop.branchId, { pickupEnabled: true });
    expect((await preview(u, body)).status).toBe(200);
  });

  it("refuses to remove the shop's last location in use", async () => {
    const shop = await seedShop();
    const res = await remove(shop.owner, shop.id, shop.warehouseId);
    expect(res.status).toBe(409);
  });

  it("refuses an empty change", async () => {
    const shop = await seedShop();
    expect((await patch(shop.owner, shop.id, shop.warehouseId, {})).status).toBe(422);
  });
});
