import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { taxReport } from "../../services/analytics/tax.ts";
import { bearer, ok, problems } from "../schemas.ts";

const money = (description: string) =>
  z
    .number()
    .int()
    .openapi({ description: `${description} Minor units of \`currency\`.` });

const AmountsSchema = z
  .object({
    baseMinor: money("The net amount taxed (before tax)."),
    taxMinor: money("The tax."),
  })
  .openapi("TaxAmounts");

const TaxReportSchema = z
  .object({
    shopId: z.uuid(),
    currency: z.string(),
    period: z.object({ from: z.iso.date(), to: z.iso.date() }),
    rates: z.array(
      z.object({
        rateBps: z.number().int().openapi({ description: "Basis points: 1700 = 17%." }),
        sales: AmountsSchema,
        refunds: AmountsSchema,
        net: AmountsSchema.openapi({ description: "sales − refunds." }),
      }),
    ),
    totals: z.object({ sales: AmountsSchema, refunds: AmountsSchema, net: AmountsSchema }),
  })
  .openapi("TaxReport");

const day = (description: string) =>
  z.iso.date().openapi({ description: `${description} (YYYY-MM-DD, UTC).`, example: "2026-11-01" });

const report = createRoute({
  method: "get",
  path: "/tax",
  tags: ["analytics"],
  security: bearer,
  middleware: [requireAuth],
  summary: "Tax by rate over a period: paid orders less refunds",
  description:
    "Per rate (0% included): the net amount taxed and the tax of the shop's orders paid in the " +
    "period (each line and the delivery fee as stored at checkout, rounded per line), less what " +
    "refunds confirmed in the period gave back (each refund's per-line share). Days are UTC, " +
    "both ends included. Owners and managers of the shop; staff get 403, anyone else 404.",
  request: {
    query: z.object({
      shopId: z.uuid().openapi({ description: "The shop." }),
      from: day("First day"),
      to: day("Last day"),
    }),
  },
  responses: {
    200: ok("The shop's tax by rate", TaxReportSchema),
    ...problems(401, 403, 404, 422),
  },
});

/** `GET /v1/seller/analytics/tax`. */
export const sellerTaxReportRoutes = createRouter().openapi(report, async (c) =>
  c.json(await taxReport(serviceContext(c), c.var.user.id, c.req.valid("query")), 200),
);
