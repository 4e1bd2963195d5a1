import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import {
  createLocation,
  createLocationInput,
  listLocations,
  MANAGER_LOCATION_FIELDS,
  removeLocation,
  updateLocation,
  updateLocationInput,
} from "../../services/shops/locations.ts";
import { bearer, IdParam, json, named, ok, problems } from "../schemas.ts";

const Interval = z.object({ open: z.string(), close: z.string() });

export const LocationAddressSchema = z
  .object({
    line1: z.string(),
    line2: z.string().nullable(),
    city: z.string(),
    region: z.string().nullable(),
    postalCode: z.string().nullable(),
    country: z.string().openapi({ example: "IL" }),
  })
  .openapi("LocationAddress");

export const CoordinatesSchema = z
  .object({ latitude: z.number(), longitude: z.number() })
  .openapi("Coordinates", { description: "WGS 84 degrees." });

export const OpeningHoursSchema = z
  .object({
    mon: z.array(Interval).optional(),
    tue: z.array(Interval).optional(),
    wed: z.array(Interval).optional(),
    thu: z.array(Interval).optional(),
    fri: z.array(Interval).optional(),
    sat: z.array(Interval).optional(),
    sun: z.array(Interval).optional(),
  })
  .openapi("OpeningHours", {
    description:
      "Per weekday, the intervals open, `HH:MM` in the shop's time zone; a day not listed is closed.",
  });

const LocationSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(["warehouse", "branch"]),
    name: z.string(),
    code: z.string().openapi({ description: "What CSV imports name the location by." }),
    address: LocationAddressSchema.nullable(),
    coordinates: CoordinatesSchema.nullable(),
    openingHours: OpeningHoursSchema,
    pickupEnabled: z
      .boolean()
      .openapi({ description: "Branches: buyers may pick up here. Always false for a warehouse." }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    retiredAt: z.iso.datetime().nullable(),
  })
  .openapi("ShopLocation");

const LocationList = z.object({ items: z.array(LocationSchema) }).openapi("ShopLocationList");
const Removed = z
  .object({ result: z.enum(["deleted", "retired"]), location: LocationSchema })
  .openapi("ShopLocationRemoved");
const LocationParams = IdParam.extend({
  locationId: z.uuid().openapi({ param: { name: "locationId", in: "path" } }),
});

const base = { tags: ["shops"], security: bearer, middleware: [requireAuth] };

const list = createRoute({
  ...base,
  method: "get",
  path: "/{id}/locations",
  summary: "A shop's locations (any member): the warehouse first, then branches by code",
  request: {
    params: IdParam,
    query: z.object({
      includeRetired: z
        .enum(["true", "false"])
        .optional()
        .openapi({ description: "`true` lists retired locations too." }),
    }),
  },
  responses: {
    200: ok("The shop's locations", LocationList),
    ...problems(401, 404, 422),
  },
});

const create = createRoute({
  ...base,
  method: "post",
  path: "/{id}/locations",
  summary: "Add a warehouse (delivery) or a branch (pickup) (owner)",
  description:
    "A branch needs an address. A shop has one warehouse in use and codes are unique within " +
    "the shop (409 naming the field). Opening hours are in the shop's time zone (`PATCH " +
    "/v1/shops/{id}` sets it). Managers and staff get 403; anyone outside the shop 404.",
  request: {
    params: IdParam,
    body: json(named(createLocationInput, "CreateShopLocationInput")),
  },
  responses: {
    201: ok("The new location", LocationSchema),
    ...problems(401, 403, 404, 409, 422),
  },
});

const update = createRoute({
  ...base,
  method: "patch",
  path: "/{id}/locations/{locationId}",
  summary: "Change a location: the owner anything, a manager its hours and pickup",
  description:
    "A manager may change only " +
    `${MANAGER_LOCATION_FIELDS.map((f) => `\`${f}\``).join(" and ")}; anything else is 403. ` +
    "`retired: false` brings a retired location back (409 if the shop has another warehouse " +
    "in use by then). A taken code is a 409 naming `code`. Audited with the location before " +
    "and after.",
  request: {
    params: LocationParams,
    body: json(named(updateLocationInput, "UpdateShopLocationInput")),
  },
  responses: {
    200: ok("The location after the change", LocationSchema),
    ...problems(401, 403, 404, 409, 422),
  },
});

const remove = createRoute({
  ...base,
  method: "delete",
  path: "/{id}/locations/{locationId}",
  summary: "Remove a location (owner): deleted if unused, else retired",
  description:
    "A location that stock, orders (open or past), stock requests or low-stock alerts name is " +
    "retired: kept, never offered again to imports, stock writes, checkout or buyers, while " +
    "its existing stock and open orders stay where they are. One nothing names is deleted. " +
    "The shop's last location in use cannot be removed (409).",
  request: { params: LocationParams },
  responses: {
    200: ok("What happened to the location", Removed),
    ...problems(401, 403, 404, 409, 422),
  },
});

/** `/v1/seller/shops/{id}/locations`: a shop's warehouse and branches. */
export const sellerLocationRoutes = createRouter()
  .openapi(list, async (c) => {
    const { includeRetired } = c.req.valid("query");
    const ctx = serviceContext(c);
    return c.json(
      await listLocations(ctx, c.var.user.id, c.req.valid("param").id, {
        includeRetired: includeRetired === "true",
      }),
      200,
    );
  })
  .openapi(create, async (c) =>
    c.json(
      await createLocation(
        serviceContext(c),
        c.var.user.id,
        c.req.valid("param").id,
        c.req.valid("json"),
      ),
      201,
    ),
  )
  .openapi(update, async (c) => {
    const { id, locationId } = c.req.valid("param");
    return c.json(
      await updateLocation(serviceContext(c), c.var.user.id, id, locationId, c.req.valid("json")),
      200,
    );
  })
  .openapi(remove, async (c) => {
    const { id, locationId } = c.req.valid("param");
    return c.json(await removeLocation(serviceContext(c), c.var.user.id, id, locationId), 200);
  });
