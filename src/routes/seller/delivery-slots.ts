import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { getSchedule, scheduleInput, setSchedule } from "../../services/delivery/slots.ts";
import { bearer, IdParam, json, named, ok, problems } from "../schemas.ts";

const WindowSchema = z.object({
  start: z.string().openapi({ example: "08:00", description: "Local start, HH:MM." }),
  capacity: z.number().int().optional(),
});

const ScheduleSchema = z
  .object({
    shopId: z.uuid(),
    revision: z.number().int().openapi({ description: "0 before the first schedule." }),
    configured: z.boolean(),
    timeZone: z.string().openapi({ example: "Asia/Karachi", description: "The shop's." }),
    capacity: z.number().int(),
    cutoffMinutes: z.number().int(),
    horizonDays: z.number().int(),
    days: z.array(
      z.object({
        weekday: z.enum(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
        windows: z.array(WindowSchema),
      }),
    ),
  })
  .openapi("DeliverySchedule");

const ScheduleBody = named(
  scheduleInput,
  "DeliveryScheduleInput",
  "The weekly schedule in the shop's time zone. Each window lasts two hours and lies between " +
    "06:00 and 22:00 (start HH:MM on a quarter hour, 20:00 at the latest); windows of one day " +
    "do not overlap; one entry per weekday (a missing weekday has no deliveries). `capacity` is " +
    "orders per window (a window may set its own); `cutoffMinutes` closes a window that long " +
    "before it starts; `horizonDays` (default 14, at most 60) is how far ahead windows open.",
);

const base = {
  tags: ["delivery"],
  security: bearer,
  middleware: [requireAuth],
  request: { params: IdParam },
};
const who =
  "Owner and manager of the shop; staff get 403; anyone else 404, as if the shop did not exist.";

const read = createRoute({
  ...base,
  method: "get",
  path: "/{id}/delivery-slots/schedule",
  summary: "The shop's weekly delivery schedule (owner, manager)",
  description: who,
  responses: { 200: ok("The schedule in force", ScheduleSchema), ...problems(401, 403, 404, 422) },
});

const write = createRoute({
  ...base,
  method: "put",
  path: "/{id}/delivery-slots/schedule",
  summary: "Set the weekly delivery schedule, capacity and cut-off (owner, manager)",
  description:
    `${who} Replaces the schedule (a new revision; the same schedule again changes nothing). ` +
    "Bookings already made keep their windows, even a removed window or one whose capacity " +
    "dropped below its bookings. Audited (`delivery_slots.schedule_set`).",
  request: { ...base.request, body: json(ScheduleBody) },
  responses: {
    200: ok("The schedule now in force", ScheduleSchema),
    ...problems(401, 403, 404, 422),
  },
});

/** `/v1/seller/shops/{id}/delivery-slots/schedule`: the weekly delivery windows. */
export const sellerDeliverySlotRoutes = createRouter()
  .openapi(read, async (c) =>
    c.json(await getSchedule(serviceContext(c), c.var.user.id, c.req.valid("param").id), 200),
  )
  .openapi(write, async (c) =>
    c.json(
      await setSchedule(
        serviceContext(c),
        c.var.user.id,
        c.req.valid("param").id,
        c.req.valid("json"),
      ),
      200,
    ),
  );
