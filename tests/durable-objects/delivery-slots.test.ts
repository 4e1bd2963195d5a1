import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { DeliverySlots, ScheduleInput } from "../../durable-objects/delivery-slots.ts";
import { auditLog, deliverySlotEvents, deliverySlotSchedules } from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { withDb } from "../helpers/db.ts";

const TTL = 10 * 60_000;
const EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const actor = { type: "user" as const, id: uuidv7(), requestId: "test" };

function schedule(over: Partial<ScheduleInput> = {}): ScheduleInput {
  return {
    timeZone: "UTC",
    capacity: 5,
    cutoffMinutes: 120,
    horizonDays: 14,
    days: EVERY_DAY.map((weekday) => ({
      weekday,
      windows: [{ start: "08:00" }, { start: "12:00" }, { start: "18:00" }],
    })),
    ...over,
  };
}

async function newShop(over: Partial<ScheduleInput> = {}) {
  const shopId = uuidv7();
  const stub = env.DELIVERY_SLOTS.get(env.DELIVERY_SLOTS.idFromName(shopId));
  await stub.configure({ shopId, schedule: schedule(over), actor });
  return { shopId, stub };
}

/** The first window still open for booking. */
async function firstOpen(stub: DurableObjectStub<DeliverySlots>) {
  const slot = (await stub.availability({ openOnly: true })).slots[0];
  if (!slot) throw new Error("no open window");
  return slot;
}

function booking(shopId: string, slotStart: string, key = uuidv7()) {
  return { shopId, key, checkoutId: uuidv7(), slotStart, ttlMs: TTL, actor };
}

describe("DeliverySlots capacity", () => {
  it("lets exactly the capacity of 100 concurrent bookings of one window through", async () => {
    const { shopId, stub } = await newShop({ capacity: 7 });
    const slot = await firstOpen(stub);

    const results = await Promise.all(
      Array.from({ length: 100 }, () => stub.book(booking(shopId, slot.start))),
    );

    const won = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(won).toHaveLength(7);
    expect(refused).toHaveLength(93);
    for (const r of refused) expect(r).toMatchObject({ code: "SLOT_FULL", slotStart: slot.start });
    const after = (await stub.availability({})).slots.find((s) => s.start === slot.start);
    expect(after).toMatchObject({ capacity: 7, booked: 7, remaining: 0, open: false });
  });

  it("never overbooks a window across racing bookings and releases", async () => {
    const { shopId, stub } = await newShop({ capacity: 3 });
    const slot = await firstOpen(stub);
    const first = await Promise.all(
      Array.from({ length: 3 }, () => stub.book(booking(shopId, slot.start))),
    );
    const keys = first.flatMap((r) => (r.ok ? [r.key] : []));
    expect(keys).toHaveLength(3);

    // Two releases race 40 bookings: exactly two of the bookings can take the freed places.
    const raced = await Promise.all([
      ...Array.from({ length: 40 }, () => stub.book(booking(shopId, slot.start))),
      stub.release({ key: keys[0] ?? "" }),
      stub.release({ key: keys[1] ?? "" }),
    ]);
    const booked = raced.slice(0, 40).filter((r) => r.ok).length;
    const taken = (await stub.availability({})).slots.find((s) => s.start === slot.start);
    expect(booked).toBeLessThanOrEqual(2);
    expect(taken?.booked).toBe(1 + booked);
    expect(taken?.booked).toBeLessThanOrEqual(3);
  });

  it("gives a released booking's place back", async () => {
    const { shopId, stub } = await newShop({ capacity: 1 });
    const slot = await firstOpen(stub);
    const held = await stub.book(booking(shopId, slot.start));
    expect(held.ok).toBe(true);
    expect(await stub.book(booking(shopId, slot.start))).toMatchObject({ code: "SLOT_FULL" });

    const released = await stub.release({
      key: held.ok ? held.key : "",
      reason: "order cancelled",
    });

    expect(released).toMatchObject({ ok: true, state: "released", replayed: false });
    expect(await stub.book(booking(shopId, slot.start))).toMatchObject({ ok: true });
  });

  it("answers the same booking for the same key and books once", async () => {
    const { shopId, stub } = await newShop({ capacity: 5 });
    const slot = await firstOpen(stub);
    const input = booking(shopId, slot.start, "checkout-1:shop");

    const [a, b] = await Promise.all([stub.book(input), stub.book(input)]);

    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(b.bookingId).toBe(a.bookingId);
    expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
    expect((await stub.snapshot()).activeBookings).toBe(1);
  });
});

describe("DeliverySlots windows", () => {
  it("refuses a window past its cut-off", async () => {
    const { shopId, stub } = await newShop({ cutoffMinutes: 7 * 24 * 60 - 60 });
    const closed = (await stub.availability({})).slots.find((s) => !s.open);
    expect(closed).toBeDefined();

    const r = await stub.book(booking(shopId, closed?.start ?? ""));

    expect(r).toMatchObject({ ok: false, code: "SLOT_CLOSED" });
  });

  it("refuses an instant that starts none of the shop's windows", async () => {
    const { shopId, stub } = await newShop();
    const slot = await firstOpen(stub);
    const offset = new Date(Date.parse(slot.start) + 60 * 60_000).toISOString();

    expect(await stub.book(booking(shopId, offset))).toMatchObject({ code: "SLOT_UNKNOWN" });
  });

  it("lays windows out in the shop's time zone", async () => {
    const { stub } = await newShop({ timeZone: "Asia/Karachi" });

    const slots = (await stub.availability({})).slots;

    // Pakistan is UTC+5 all year: the 08:00 window starts at 03:00 UTC.
    const morning = slots.find((s) => s.localStart === "08:00");
    expect(morning?.start.slice(11, 16)).toBe("03:00");
    expect(new Set(slots.map((s) => s.localStart))).toEqual(new Set(["08:00", "12:00", "18:00"]));
  });

  it("offers nothing before a schedule is set", async () => {
    const stub = env.DELIVERY_SLOTS.get(env.DELIVERY_SLOTS.idFromName(uuidv7()));

    expect(await stub.availability({})).toMatchObject({ configured: false, slots: [] });
  });
});

describe("DeliverySlots holds and mirror", () => {
  it("gives the place of a lapsed hold whose order never existed back at the alarm", async () => {
    const { shopId, stub } = await newShop({ capacity: 1 });
    const slot = await firstOpen(stub);
    const held = await stub.book(booking(shopId, slot.start));
    if (!held.ok) throw new Error("not booked");
    await runInDurableObject(stub, async (_obj, state) => {
      state.storage.sql.exec("UPDATE bookings SET expires_at = ? WHERE id = ?", 1, held.bookingId);
    });

    // The object's own alarm may be mid-run (flushing) and so not scheduled: run it until done.
    for (let i = 0; i < 50 && (await stub.booking(held.key))?.state === "held"; i++) {
      await runDurableObjectAlarm(stub);
      await new Promise((r) => setTimeout(r, 100));
    }

    expect(await stub.booking(held.key)).toMatchObject({ state: "expired" });
    expect(await stub.book(booking(shopId, slot.start))).toMatchObject({ ok: true });
  });

  it("mirrors the schedule and each booking to Postgres with an audit row per event", async () => {
    const { shopId, stub } = await newShop({ capacity: 2 });
    const slot = await firstOpen(stub);
    const held = await stub.book(booking(shopId, slot.start));
    if (!held.ok) throw new Error("not booked");
    await stub.release({ key: held.key });

    // The alarm may have mirrored some already; whoever sent them, each is mirrored once.
    expect(await stub.flushOutbox()).toMatchObject({ pending: 0, error: null });
    expect((await stub.flushOutbox()).mirrored).toBe(0);
    await withDb(async (db) => {
      const events = await db
        .select()
        .from(deliverySlotEvents)
        .where(eq(deliverySlotEvents.shopId, shopId))
        .orderBy(deliverySlotEvents.sequence);
      expect(events.map((e) => e.kind)).toEqual(["schedule", "book", "release"]);
      const [sched] = await db
        .select()
        .from(deliverySlotSchedules)
        .where(eq(deliverySlotSchedules.shopId, shopId));
      expect(sched).toMatchObject({ revision: 1, capacity: 2, cutoffMinutes: 120 });
      const audits = await db
        .select()
        .from(auditLog)
        .where(
          and(
            eq(auditLog.entityType, "delivery_slot_booking"),
            eq(auditLog.entityId, held.bookingId),
          ),
        );
      expect(audits.map((a) => a.action).sort()).toEqual([
        "delivery_slot.booked",
        "delivery_slot.released",
      ]);
    });
  });
});
