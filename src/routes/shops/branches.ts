import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { serviceContext } from "../../http/service-context.ts";
import { listBranches } from "../../services/shops/locations.ts";
import { IdParam, ok, problems } from "../schemas.ts";
import {
  CoordinatesSchema,
  LocationAddressSchema,
  OpeningHoursSchema,
} from "../seller/locations.ts";

const BranchSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    address: LocationAddressSchema.nullable(),
    coordinates: CoordinatesSchema.nullable(),
    openingHours: OpeningHoursSchema,
    openNow: z
      .boolean()
      .openapi({ description: "Open at the time of the request, in the shop's time zone." }),
    pickupEnabled: z.boolean().openapi({ description: "Whether pickup can be chosen here." }),
  })
  .openapi("ShopBranch");

const BranchList = z
  .object({
    shopId: z.uuid(),
    timeZone: z.string().openapi({ example: "Asia/Karachi" }),
    items: z.array(BranchSchema),
  })
  .openapi("ShopBranchList");

const list = createRoute({
  method: "get",
  path: "/{id}/branches",
  tags: ["shops"],
  summary: "A visible shop's branches: address, opening hours and whether open now",
  description:
    "Public. A shop buyers cannot see (not approved, not verified, suspended) is a 404 here, " +
    "as on its other public reads. Hours are in the shop's `timeZone`.",
  request: { params: IdParam },
  responses: { 200: ok("The shop's branches", BranchList), ...problems(404, 422) },
});

/** `GET /v1/shops/{id}/branches`: where buyers can pick up. */
export const shopBranchRoutes = createRouter().openapi(list, async (c) =>
  c.json(await listBranches(serviceContext(c), c.req.valid("param").id), 200),
);
