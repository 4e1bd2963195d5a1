import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Availability } from "../../../durable-objects/delivery-slots.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { bookSlots, releaseSlots, slotKey } from "../../../src/services/delivery/booking.ts";
import { slotsOf } from "../../../src/services/delivery/slots.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { paidOrder, pendingOrder } from "../../helpers/orders.ts";
import { seedMember, seedShop } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

const EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

function weekly(capacity: number, starts = ["08:00", "10:00", "18:00"]) {
  return {
    capacity,
    cutoffMinutes: 120,
    days: EVERY_DAY.map((weekday) => ({ weekday, windows: starts.map((start) => ({ start })) })),
  };
}

async function configuredShop(capacity: number, starts?: string[]) {
  const shop = await seedShop({ status: "approved" });
  const put = await api("PUT", `/v1/seller/shops/${shop.id}/delivery-slots/schedule`, {
    token: shop.owner.accessToken,
    body: weekly(capacity, starts),
  });
  expect(put.status).toBe(200);
  return shop;
}

async function slots(shopId: string, query = "") {
  const res = await api<Availability>("GET", `/v1/shops/${shopId}/delivery-slots${query}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function firstOpen(shopId: string) {
  const slot = (await slots(shopId)).slots.find((s) => s.open);
  if (!slot) throw new Error("no open window");
  return slot;
}

const actor = { type: "system" as const, id: null, requestId: "test" };

describe("delivery schedule (seller)", () => {
  it("lets the owner set the weekly schedule and buyers see every window's places", async () => {
    const shop = await configuredShop(4);

    const body = await slots(shop.id);

    expect(body).toMatchObject({ shopId: shop.id, configured: true, timeZone: "UTC" });
    expect(body.slots.length).toBeGreaterThan(30);
    const open = body.slots.filter((s) => s.open);
    expect(open.length).toBeGreaterThan(0);
    for (const s of open) expect(s).toMatchObject({ capacity: 4, booked: 0, remaining: 4 });
    expect(new Set(body.slots.map((s) => s.localStart))).toEqual(
      new Set(["08:00", "10:00", "18:00"]),
    );
  });

  it("lays the windows out in the shop's time zone", async () => {
    const shop = await seedShop({ status: "approved" });
    await withDb((db) =>
      db.execute(sql`update shops set time_zone = 'Asia/Jerusalem' where id = ${shop.id}`),
    );
    await api("PUT", `/v1/seller/shops/${shop.id}/delivery-slots/schedule`, {
      token: shop.owner.accessToken,
      body: weekly(2, ["08:00"]),
    });

    const body = await slots(shop.id);

    expect(body.timeZone).toBe("Asia/Jerusalem");
    // Israel is UTC+2 in winter, UTC+3 in summer: 08:00 local is 05:00 or 06:00 UTC.
    for (const s of body.slots) expect(["05:00", "06:00"]).toContain(s.start.slice(11, 16));
  });

  it("lets a manager set it and refuses staff with 403", async () => {
    const shop = await seedShop();
    const manager = await registerUser("seller");
    const staff = await registerUser("seller");
    await seedMember(shop.id, manager, "manager");
    await seedMember(shop.id, staff, "staff");
    const path = `/v1/seller/shops/${shop.id}/delivery-slots/schedule`;

    const byManager = await api("PUT", path, { token: manager.accessToken, body: weekly(3) });
    const byStaff = await api("PUT", path, { token: staff.accessToken, body: weekly(9) });
    const read = await api("GET", path, { token: manager.accessToken });

    expect(byManager.status).toBe(200);
    expect(byStaff.status).toBe(403);
    expect(read.body).toMatchObject({ revision: 1, capacity: 3, configured: true });
  });

  it("hides the schedule from a stranger with 404", async () => {
    const shop = await seedShop();
    const stranger = await registerUser("seller");

    const res = await api("GET", `/v1/seller/shops/${shop.id}/delivery-slots/schedule`, {
      token: stranger.accessToken,
    });

    expect(res.status).toBe(404);
  });

  it("refuses a window that would end after 22:00, naming it", async () => {
    const shop = await seedShop();

    const res = await api<Problem>("PUT", `/v1/seller/shops/${shop.id}/delivery-slots/schedule`, {
      token: shop.owner.accessToken,
      body: {
        capacity: 2,
        cutoffMinutes: 60,
        days: [{ weekday: "mon", windows: [{ start: "21:00" }] }],
      },
    });

    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field)).toContain("days.0.windows.0.start");
  });

  it("refuses overlapping windows of one day", async () => {
    const shop = await seedShop();

    const res = await api<Problem>("PUT", `/v1/seller/shops/${shop.id}/delivery-slots/schedule`, {
      token: shop.owner.accessToken,
      body: {
        capacity: 2,
        cutoffMinutes: 60,
        days: [{ weekday: "tue", windows: [{ start: "08:00" }, { start: "09:00" }] }],
      },
    });

    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field)).toContain("days.0.windows");
  });
});

describe("delivery windows (public)", () => {
  it("answers 404 for a shop buyers cannot see", async () => {
    const shop = await seedShop({ status: "pending" });

    const res = await api("GET", `/v1/shops/${shop.id}/delivery-slots`);

    expect(res.status).toBe(404);
  });

  it("refuses a range that ends before it starts", async () => {
    const shop = await configuredShop(1);

    const res = await api<Problem>(
      "GET",
      `/v1/shops/${shop.id}/delivery-slots?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z`,
    );

    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field)).toContain("to");
  });

  it("never overbooks a window when 60 checkouts race for its 5 places", async () => {
    const shop = await configuredShop(5);
    const slot = await firstOpen(shop.id);

    const results = await Promise.all(
      Array.from({ length: 60 }, () =>
        bookSlots(env.DELIVERY_SLOTS, {
          checkoutId: uuidv7(),
          slots: [{ shopId: shop.id, slotStart: slot.start }],
          ttlMs: 60_000,
          actor,
        }),
      ),
    );

    expect(results.filter((r) => r.ok)).toHaveLength(5);
    for (const r of results.filter((r) => !r.ok)) {
      expect(r).toMatchObject({ refused: [{ code: "SLOT_FULL", slotStart: slot.start }] });
    }
    const after = (await slots(shop.id)).slots.find((s) => s.start === slot.start);
    expect(after).toMatchObject({ booked: 5, remaining: 0, open: false });
  });

  it("shows a released booking's place as free again", async () => {
    const shop = await configuredShop(1);
    const slot = await firstOpen(shop.id);
    const checkoutId = uuidv7();
    await bookSlots(env.DELIVERY_SLOTS, {
      checkoutId,
      slots: [{ shopId: shop.id, slotStart: slot.start }],
      ttlMs: 60_000,
      actor,
    });
    const full = (await slots(shop.id)).slots.find((s) => s.start === slot.start);

    await releaseSlots(
      env.DELIVERY_SLOTS,
      [{ shopId: shop.id, key: slotKey(checkoutId, shop.id) }],
      actor,
      "order cancelled",
    );

    const after = (await slots(shop.id)).slots.find((s) => s.start === slot.start);
    expect(full).toMatchObject({ booked: 1, remaining: 0 });
    expect(after).toMatchObject({ booked: 0, remaining: 1, open: true });
  });

  it("gives back every place of a checkout when one of its shops refuses", async () => {
    const a = await configuredShop(3);
    const b = await configuredShop(1);
    const slotA = await firstOpen(a.id);
    const slotB = await firstOpen(b.id);
    await bookSlots(env.DELIVERY_SLOTS, {
      checkoutId: uuidv7(),
      slots: [{ shopId: b.id, slotStart: slotB.start }],
      ttlMs: 60_000,
      actor,
    });

    const r = await bookSlots(env.DELIVERY_SLOTS, {
      checkoutId: uuidv7(),
      slots: [
        { shopId: a.id, slotStart: slotA.start },
        { shopId: b.id, slotStart: slotB.start },
      ],
      ttlMs: 60_000,
      actor,
    });

    expect(r).toMatchObject({ ok: false, refused: [{ shopId: b.id, code: "SLOT_FULL" }] });
    const afterA = (await slots(a.id)).slots.find((s) => s.start === slotA.start);
    expect(afterA).toMatchObject({ booked: 0, remaining: 3 });
  });
});

describe("a delivery hold whose time ran out", () => {
  /** Books a window for a seeded checkout's order, then runs the alarm past the hold's end. */
  async function lapse(f: Awaited<ReturnType<typeof pendingOrder>>) {
    const shopId = f.order.shop.id;
    await api("PUT", `/v1/seller/shops/${shopId}/delivery-slots/schedule`, {
      token: f.owner.accessToken,
      body: weekly(2),
    });
    const stub = slotsOf(env.DELIVERY_SLOTS, shopId);
    const slot = (await stub.availability({ openOnly: true })).slots[0];
    const booked = await bookSlots(env.DELIVERY_SLOTS, {
      checkoutId: f.checkout.id,
      slots: [{ shopId, slotStart: slot?.start ?? "" }],
      ttlMs: 60_000,
      actor,
    });
    expect(booked.ok).toBe(true);
    const key = slotKey(f.checkout.id, shopId);
    await runInDurableObject(stub, async (_obj, state) => {
      state.storage.sql.exec("UPDATE bookings SET expires_at = 1 WHERE key = ?", key);
    });
    // The object's own alarm may be mid-run (flushing): run it until the hold is looked at.
    for (let i = 0; i < 50; i++) {
      await runDurableObjectAlarm(stub);
      const b = await stub.booking(key);
      if (b?.state !== "held" || (b.expiresAt !== null && Date.parse(b.expiresAt) > 1_000)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return stub.booking(key);
  }

  it("keeps the place of a paid order for good", async () => {
    const f = await paidOrder();

    expect(await lapse(f)).toMatchObject({ state: "confirmed", expiresAt: null });
  });

  it("keeps holding the place of an order still awaiting payment", async () => {
    const f = await pendingOrder();

    const b = await lapse(f);

    expect(b?.state).toBe("held");
    expect(Date.parse(b?.expiresAt ?? "")).toBeGreaterThan(Date.now());
  });
});
