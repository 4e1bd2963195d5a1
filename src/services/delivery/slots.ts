import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import {
  type Availability,
  isTimeZone,
  MAX_RANGE_DAYS,
  type Schedule,
  scheduleShape,
} from "../../../durable-objects/delivery-slots/types.ts";
import type { DeliverySlots } from "../../../durable-objects/delivery-slots.ts";
import { shops } from "../../db/schema/shops.ts";
import { parseOr422 } from "../../lib/input.ts";
import type { ServiceContext } from "../context.ts";
import { NotFound } from "../errors.ts";
import { isShopVisible, requireShopPermission } from "../shops/access.ts";

/**
 * A shop's delivery windows: the weekly schedule its owner or manager sets, and what is left in
 * each window for buyers. The DeliverySlots object (one per shop) holds both; these functions
 * check who may ask and pass the request on. The namespace is a parameter until the service
 * context carries it.
 */

/** The DeliverySlots namespace (`env.DELIVERY_SLOTS`): one object per shop. */
export type SlotsNamespace = DurableObjectNamespace<DeliverySlots>;

export function slotsOf(ns: SlotsNamespace, shopId: string): DurableObjectStub<DeliverySlots> {
  return ns.get(ns.idFromName(shopId));
}

/** What a seller sends: the schedule without its time zone, which is the shop's. */
export const scheduleInput = z.object({
  capacity: scheduleShape.capacity,
  cutoffMinutes: scheduleShape.cutoffMinutes,
  horizonDays: scheduleShape.horizonDays,
  days: scheduleShape.days,
});
export type ScheduleInput = z.input<typeof scheduleInput>;

export interface ScheduleView extends Schedule {
  shopId: string;
  /** 0 until the first schedule is set; each change adds one. */
  revision: number;
  configured: boolean;
}

/** The shop's time zone (`shops.time_zone`, migration 0018); UTC when it has none. */
function timeZoneOf(shop: object): string {
  const tz = (shop as { timeZone?: unknown }).timeZone;
  return typeof tz === "string" && isTimeZone(tz) ? tz : "UTC";
}

function emptySchedule(shopId: string, timeZone: string): ScheduleView {
  return {
    shopId,
    revision: 0,
    configured: false,
    timeZone,
    capacity: 0,
    cutoffMinutes: 0,
    horizonDays: 14,
    days: [],
  };
}

/** The schedule in force (owner, manager). */
export async function getSchedule(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
): Promise<ScheduleView> {
  const { shop } = await requireShopPermission(ctx.db, shopId, userId, "delivery.manage");
  const snap = await slotsOf(ctx.slots, shopId).snapshot();
  if (!snap.schedule) return emptySchedule(shopId, timeZoneOf(shop));
  return { shopId, revision: snap.revision, configured: true, ...snap.schedule };
}

/**
 * Sets the weekly schedule (owner, manager), in the shop's time zone. Bookings already made keep
 * their windows even when a window is removed or its capacity lowered; a lowered capacity only
 * stops new bookings until the window has room again. Audited through the object's outbox
 * (`delivery_slots.schedule_set`, old revision superseded by the new one).
 */
export async function setSchedule(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  raw: unknown,
): Promise<ScheduleView> {
  const input = parseOr422(scheduleInput, raw);
  const { shop } = await requireShopPermission(ctx.db, shopId, userId, "delivery.manage");
  const result = await slotsOf(ctx.slots, shopId).configure({
    shopId,
    schedule: { ...input, timeZone: timeZoneOf(shop) },
    actor: slotActor(ctx.actor),
  });
  return { shopId, revision: result.revision, configured: true, ...result.schedule };
}

export const availabilityQuery = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), {
    message: "must be after from",
    path: ["to"],
  })
  .refine(
    (q) => !q.from || !q.to || Date.parse(q.to) - Date.parse(q.from) <= MAX_RANGE_DAYS * 86_400_000,
    { message: `must be at most ${MAX_RANGE_DAYS} days after from`, path: ["to"] },
  );

/**
 * What is left in each of a visible shop's windows between `from` and `to` (default: now to
 * the end of the shop's horizon). Public; a shop buyers cannot see is a 404.
 */
export async function shopDeliverySlots(
  ctx: ServiceContext,
  shopId: string,
  raw: unknown,
): Promise<Availability & { shopId: string }> {
  const q = parseOr422(availabilityQuery, raw, "query");
  const [shop] = await ctx.http
    .select({
      status: shops.status,
      emailVerifiedAt: shops.emailVerifiedAt,
      deletedAt: shops.deletedAt,
    })
    .from(shops)
    .where(and(eq(shops.id, shopId), isNull(shops.deletedAt)));
  if (!shop || !isShopVisible(shop)) throw new NotFound("shop", shopId);
  const result = await slotsOf(ctx.slots, shopId).availability({
    ...(q.from ? { from: q.from } : {}),
    ...(q.to ? { to: q.to } : {}),
  });
  return { ...result, shopId };
}

/**
 * Keeps a shop's windows at the same local times after its time zone changes (call it once
 * `shops.time_zone` is committed): the schedule is set again in `timeZone`, a new revision.
 * Bookings keep the instants they were made for. A no-op for a shop without a schedule.
 */
export async function syncScheduleTimeZone(
  ctx: ServiceContext,
  ns: SlotsNamespace,
  shopId: string,
  timeZone: string,
): Promise<void> {
  const stub = slotsOf(ns, shopId);
  const { schedule } = await stub.snapshot();
  if (!schedule || schedule.timeZone === timeZone) return;
  await stub.configure({
    shopId,
    schedule: { ...schedule, timeZone },
    actor: slotActor(ctx.actor),
  });
}

/** The actor as the object records it. */
export function slotActor(actor: ServiceContext["actor"]) {
  return { type: actor.type, id: actor.id ?? null, requestId: actor.requestId ?? null };
}
