import { eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { notifications, orders, shopLocations } from "../../../src/db/schema/index.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { auditRows } from "../../helpers/audit.ts";
import { withDb } from "../../helpers/db.ts";
import { eventually } from "../../helpers/eventually.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { orderRow, paidOrder, sellerPost } from "../../helpers/orders.ts";
import { seedMember } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

/** A paid order turned into a pickup at a new branch of its shop, picked: `ready`. */
async function readyPickupOrder() {
  const f = await paidOrder();
  const branchId = uuidv7();
  await withDb(async (db) => {
    await db.insert(shopLocations).values({
      id: branchId,
      shopId: f.order.shop.id,
      kind: "branch",
      name: "Old Town branch",
      code: `BR${branchId.slice(-6)}`,
      openingHours: {
        mon: [{ open: "08:00", close: "20:00" }],
        sat: [{ open: "09:00", close: "13:00" }],
      },
    });
    await db
      .update(orders)
      .set({ fulfilment: "pickup", pickupLocationId: branchId, shippingAddress: null })
      .where(eq(orders.id, f.order.id));
  });
  const item = f.order.items[0];
  if (!item) throw new Error("seed");
  expect((await sellerPost(f.owner, `/${f.order.id}/items/${item.id}/picked`)).body.status).toBe(
    "ready",
  );
  return f;
}

/** The pickup codes the buyer was sent for an order, newest last. */
async function sentCodes(orderId: string, atLeast = 1): Promise<string[]> {
  return eventually(async () => {
    const rows = await withDb((db) =>
      db
        .select()
        .from(notifications)
        .where(like(notifications.dedupeKey, `order-ready-for-pickup:${orderId}:%`))
        .orderBy(notifications.id),
    );
    const codes = rows.map((r) => String((r.data as { pickupCode?: unknown }).pickupCode));
    return codes.length >= atLeast ? codes : undefined;
  });
}

const collect = (token: string, orderId: string, code: string) =>
  api<Problem & { status: string | number }>("POST", `/v1/seller/orders/${orderId}/collect`, {
    token,
    body: { code },
  });

describe("pickup at a branch", () => {
  it("sends the buyer a pickup code with the branch's hours, never the seller", async () => {
    const f = await readyPickupOrder();

    const res = await sellerPost(f.owner, `/${f.order.id}/ready-for-pickup`);

    expect(res.status).toBe(200);
    expect(res.body.status).toBe("ready_for_pickup");
    expect(JSON.stringify(res.body)).not.toMatch(/pickupCode/);
    const [code] = await sentCodes(f.order.id);
    expect(code).toMatch(/^\d{6}$/);
    const [notice] = await withDb((db) =>
      db
        .select()
        .from(notifications)
        .where(like(notifications.dedupeKey, `order-ready-for-pickup:${f.order.id}:%`)),
    );
    expect(notice?.userId).toBe(f.buyer.id);
    expect(notice?.body).toContain(code ?? "");
    expect(notice?.body).toContain("Mon 08:00–20:00; Sat 09:00–13:00");
    const row = await orderRow(f.order.id);
    expect(row.carrier).toBeNull();
    expect(row.trackingNumber).toBeNull();
    expect(row.pickupCodeHash).not.toContain(code ?? "");
  });

  it("lets staff mark it collected with the code, and the buyer may then rate it", async () => {
    const f = await readyPickupOrder();
    const staff = await registerUser("seller");
    await seedMember(f.order.shop.id, staff, "staff");
    await sellerPost(f.owner, `/${f.order.id}/ready-for-pickup`);
    const [code] = await sentCodes(f.order.id);

    const res = await collect(staff.accessToken, f.order.id, code ?? "");

    expect(res.status).toBe(200);
    expect(res.body.status).toBe("collected");
    expect((await orderRow(f.order.id)).collectedAt).not.toBeNull();
    expect(await auditRows(f.order.id, { action: "order.collected" })).toHaveLength(1);
    // Asked once for feedback, as after a delivery.
    const asked = await eventually(async () => {
      const rows = await withDb((db) =>
        db
          .select()
          .from(notifications)
          .where(eq(notifications.dedupeKey, `feedback-request:${f.order.id}`)),
      );
      return rows.length > 0 ? rows : undefined;
    });
    expect(asked[0]?.userId).toBe(f.buyer.id);
    const rated = await api("POST", `/v1/orders/${f.order.id}/feedback`, {
      token: f.buyer.accessToken,
      body: { rating: 5, comment: "Quick pickup" },
    });
    expect(rated.status).toBe(201);
  });

  it("refuses a wrong code with 422 naming it, and voids the code after five", async () => {
    const f = await readyPickupOrder();
    await sellerPost(f.owner, `/${f.order.id}/ready-for-pickup`);
    const [code] = await sentCodes(f.order.id);
    const wrong = code === "000000" ? "111111" : "000000";

    const first = await collect(f.owner.accessToken, f.order.id, wrong);
    for (let i = 0; i < 4; i++) await collect(f.owner.accessToken, f.order.id, wrong);
    const afterVoid = await collect(f.owner.accessToken, f.order.id, code ?? "");

    expect(first.status).toBe(422);
    expect(first.body.errors?.map((e) => e.field)).toEqual(["code"]);
    expect(afterVoid.status).toBe(409);
    expect((await orderRow(f.order.id)).status).toBe("ready_for_pickup");
    expect(await auditRows(f.order.id, { action: "order.pickup_code_failed" })).toHaveLength(5);

    // Marking it ready again sends a new code, which works.
    expect((await sellerPost(f.owner, `/${f.order.id}/ready-for-pickup`)).status).toBe(200);
    const codes = await sentCodes(f.order.id, 2);
    const fresh = codes.at(-1) ?? "";
    expect((await collect(f.owner.accessToken, f.order.id, fresh)).status).toBe(200);
  });

  it("refuses pickup states for a delivery order", async () => {
    const f = await paidOrder();
    const item = f.order.items[0];
    if (!item) throw new Error("seed");
    await sellerPost(f.owner, `/${f.order.id}/items/${item.id}/picked`);

    const res = await sellerPost(f.owner, `/${f.order.id}/ready-for-pickup`);

    expect(res.status).toBe(409);
    expect((await orderRow(f.order.id)).status).toBe("ready");
  });

  it("refuses collecting an order that is not waiting at the branch", async () => {
    const f = await readyPickupOrder();

    const res = await collect(f.owner.accessToken, f.order.id, "123456");

    expect(res.status).toBe(409);
  });

  it("refuses staff marking an order ready for pickup with 403", async () => {
    const f = await readyPickupOrder();
    const staff = await registerUser("seller");
    await seedMember(f.order.shop.id, staff, "staff");

    const res = await sellerPost(staff, `/${f.order.id}/ready-for-pickup`);

    expect(res.status).toBe(403);
  });
});
