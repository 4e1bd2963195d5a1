import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { serviceContext } from "../../http/service-context.ts";
import { shopDeliverySlots } from "../../services/delivery/slots.ts";
import { IdParam, ok, problems } from "../schemas.ts";

export const DeliverySlotSchema = z
  .object({
    start: z.iso.datetime().openapi({ description: "The window's start (UTC instant)." }),
    end: z.iso.datetime().openapi({ description: "Two hours after the start." }),
    localDate: z
      .string()
      .openapi({ example: "2026-12-04", description: "In the shop's time zone." }),
    localStart: z.string().openapi({ example: "08:00", description: "In the shop's time zone." }),
    capacity: z.number().int().openapi({ description: "Orders the window takes." }),
    booked: z.number().int().openapi({ description: "Places held or confirmed." }),
    remaining: z.number().int(),
    closesAt: z.iso.datetime().openapi({ description: "The cut-off: no booking from then on." }),
    open: z.boolean().openapi({ description: "Before its cut-off and not full." }),
  })
  .openapi("DeliverySlot");

const AvailabilitySchema = z
  .object({
    shopId: z.uuid(),
    configured: z
      .boolean()
      .openapi({ description: "False until the shop sets a schedule: no windows offered." }),
    timeZone: z.string().nullable().openapi({ example: "Asia/Jerusalem" }),
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    slots: z.array(DeliverySlotSchema),
  })
  .openapi("DeliverySlotAvailability");

const RangeQuery = z.object({
  from: z.iso.datetime({ offset: true }).optional().openapi({
    description: "ISO instant; default now (an earlier one is read as now).",
    example: "2026-12-04T00:00:00Z",
  }),
  to: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({
      description:
        "ISO instant after `from`, at most 31 days later; default and cap: the end of the shop's " +
        "booking horizon.",
      example: "2026-12-11T00:00:00Z",
    }),
});

const list = createRoute({
  method: "get",
  path: "/{id}/delivery-slots",
  tags: ["shops", "delivery"],
  summary: "A shop's delivery windows and what is left in each (public)",
  description:
    "Every two-hour window of the shop's weekly schedule that starts between `from` and `to`, " +
    "in the shop's time zone, with its capacity, places booked and remaining, and its cut-off. " +
    "Counts come from the shop's single writer, so they are exact at the moment of the read. " +
    "A shop buyers cannot see is a 404.",
  request: { params: IdParam, query: RangeQuery },
  responses: {
    200: ok("The windows", AvailabilitySchema),
    ...problems(404, 422),
  },
});

/** `/v1/shops/{id}/delivery-slots`: what is left in a shop's delivery windows. */
export const deliverySlotRoutes = createRouter().openapi(list, async (c) =>
  c.json(
    await shopDeliverySlots(serviceContext(c), c.req.valid("param").id, c.req.valid("query")),
    200,
  ),
);
