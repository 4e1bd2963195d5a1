import { and, asc, count, eq, isNull, ne, sql } from "drizzle-orm";
import { z } from "zod";
import { stockOf } from "../../../durable-objects/product-stock.ts";
import { withAudit } from "../../db/audit.ts";
import type { Queryable } from "../../db/client.ts";
import { products } from "../../db/schema/catalog.ts";
import { stockRequests } from "../../db/schema/inventory.ts";
import { orderItems, orders } from "../../db/schema/orders.ts";
import {
  type LocationAddress,
  type OpeningHours,
  type ShopRole,
  shopLocations,
  shops,
} from "../../db/schema/shops.ts";
import { stockMovementOwners, stockMovements } from "../../db/schema/stock.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { parseOr422 } from "../../lib/input.ts";
import { text } from "../../lib/text.ts";
import { isUniqueViolation, type ServiceContext } from "../context.ts";
import { Conflict, Forbidden, NotFound, ValidationFailed } from "../errors.ts";
import { isShopVisible, requireShopPermission } from "./access.ts";
import { isOpenAt, normalizeHours, openingHoursSchema } from "./hours.ts";
import { forgetShopListings } from "./settings.ts";

/**
 * A shop's locations: one warehouse (delivered orders take their units there) and any number
 * of branches (buyers pick up there). Stock lives per location in the product's ProductStock
 * object; imports and stock writes name a location by id or by its `code`. Every reader of
 * live locations (imports, stock writes, checkout, auction orders) already skips a row with
 * `deleted_at` set, which is how a location is retired here.
 */

/** Most live locations a shop may have. */
export const MAX_LOCATIONS_PER_SHOP = 100;

/** Objects asked directly for unmirrored stock before a delete; more than this: retire. */
const MAX_UNMIRRORED_PRODUCTS = 50;

const addressSchema = z.object({
  line1: text().trim().min(1).max(200),
  line2: text().trim().max(200).nullable().optional(),
  city: text().trim().min(1).max(120),
  region: text().trim().max(120).nullable().optional(),
  postalCode: text().trim().min(1).max(20).nullable().optional(),
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, "must be an ISO 3166-1 alpha-2 code")
    .transform((c) => c.toUpperCase()),
});

const coordinatesSchema = z.object({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
});

/** What CSV imports match on (`sku,location,quantity`): no commas, quotes or spaces. */
const codeSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/,
    "must be 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit",
  );

export const createLocationInput = z.object({
  kind: z.enum(["warehouse", "branch"]),
  name: text().trim().min(1).max(80),
  code: codeSchema,
  address: addressSchema.nullable().optional(),
  coordinates: coordinatesSchema.nullable().optional(),
  openingHours: openingHoursSchema.optional(),
  pickupEnabled: z.boolean().optional(),
});
export type CreateLocationInput = z.input<typeof createLocationInput>;

export const updateLocationInput = z
  .object({
    name: text().trim().min(1).max(80).optional(),
    code: codeSchema.optional(),
    address: addressSchema.nullable().optional(),
    coordinates: coordinatesSchema.nullable().optional(),
    openingHours: openingHoursSchema.optional(),
    pickupEnabled: z.boolean().optional(),
    retired: z.literal(false).optional().meta({
      description: "`false` brings a retired location back into use.",
    }),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), {
    message: "give at least one field to change",
    path: ["name"],
  })
  .meta({ minProperties: 1 });
export type UpdateLocationInput = z.input<typeof updateLocationInput>;
type UpdateField = keyof z.output<typeof updateLocationInput>;

/**
 * Who may do what. Every member reads the locations (staff pick and hand over orders there).
 * The owner creates, edits and removes them. Managers run the day: they change a location's
 * opening hours and switch pickup on or off; its identity (name, code), where it is, and whether
 * it exists stay with the owner.
 */
export const MANAGER_LOCATION_FIELDS: readonly UpdateField[] = ["openingHours", "pickupEnabled"];

export interface LocationView {
  id: string;
  kind: "warehouse" | "branch";
  name: string;
  code: string;
  address: LocationAddress | null;
  coordinates: { latitude: number; longitude: number } | null;
  openingHours: OpeningHours;
  /** Branches only: whether buyers may choose it for pickup. Always false for a warehouse. */
  pickupEnabled: boolean;
  createdAt: string;
  updatedAt: string;
  /** When it was retired; null while in use. */
  retiredAt: string | null;
}

type LocationRow = typeof shopLocations.$inferSelect;

export function locationView(l: LocationRow): LocationView {
  return {
    id: l.id,
    kind: l.kind,
    name: l.name,
    code: l.code,
    address: l.address ?? null,
    coordinates:
      l.latitude !== null && l.longitude !== null
        ? { latitude: l.latitude, longitude: l.longitude }
        : null,
    openingHours: l.openingHours,
    pickupEnabled: l.kind === "branch" && l.pickupEnabled,
    createdAt: l.createdAt.toISOString(),
    updatedAt: l.updatedAt.toISOString(),
    retiredAt: l.deletedAt?.toISOString() ?? null,
  };
}

function toAddress(a: z.output<typeof addressSchema>): LocationAddress {
  return {
    line1: a.line1,
    line2: a.line2 ?? null,
    city: a.city,
    region: a.region ?? null,
    postalCode: a.postalCode ?? null,
    country: a.country,
  };
}

/** Loads the caller's role (404 off the team) and refuses roles outside `allowed` (403). */
async function requireRole(
  db: Queryable,
  shopId: string,
  userId: string,
  allowed: readonly ShopRole[],
  what: string,
): Promise<ShopRole> {
  const { role } = await requireShopPermission(db, shopId, userId, "catalog.read");
  if (!allowed.includes(role)) {
    throw new Forbidden(`Your role in this shop (${role}) cannot ${what}.`);
  }
  return role;
}

const own = (shopId: string, locationId: string) =>
  and(eq(shopLocations.id, locationId), eq(shopLocations.shopId, shopId));

/** A location's code or the one-warehouse rule refused by Postgres, as a 409 naming the field. */
function conflictOf(err: unknown, kindField: string): Conflict | null {
  if (isUniqueViolation(err, "shop_locations_code_key")) {
    return new Conflict("Another location of this shop has that code.", {
      errors: [{ field: "code", in: "body", message: "is taken in this shop" }],
    });
  }
  if (isUniqueViolation(err, "shop_locations_one_warehouse_key")) {
    return new Conflict("The shop already has a warehouse in use; retire it first.", {
      errors: [{ field: kindField, in: "body", message: "the shop already has a warehouse" }],
    });
  }
  return null;
}

/** The shop's locations, warehouse first, then by code; retired ones only when asked. */
export async function listLocations(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  query: { includeRetired?: boolean | undefined },
): Promise<{ items: LocationView[] }> {
  await requireRole(ctx.db, shopId, userId, ["owner", "manager", "staff"], "read locations");
  const rows = await ctx.db
    .select()
    .from(shopLocations)
    .where(
      and(
        eq(shopLocations.shopId, shopId),
        query.includeRetired ? undefined : isNull(shopLocations.deletedAt),
      ),
    )
    .orderBy(asc(shopLocations.kind), asc(shopLocations.code));
  return { items: rows.map(locationView) };
}

/** Refuses what zod cannot see: a branch without an address, pickup at a warehouse. */
function checkKindRules(
  kind: "warehouse" | "branch",
  address: unknown,
  pickupEnabled: boolean | undefined,
): void {
  const errors: Array<{ field: string; in: "body"; message: string }> = [];
  if (kind === "branch" && !address) {
    errors.push({ field: "address", in: "body", message: "is required for a branch" });
  }
  if (kind === "warehouse" && pickupEnabled === true) {
    errors.push({
      field: "pickupEnabled",
      in: "body",
      message: "only branches offer pickup; a warehouse ships deliveries",
    });
  }
  if (errors.length > 0) throw new ValidationFailed(errors);
}

/** The owner opens a location. A second warehouse in use, or a taken code, is a 409. */
export async function createLocation(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  raw: CreateLocationInput,
): Promise<LocationView> {
  const input = parseOr422(createLocationInput, raw);
  checkKindRules(input.kind, input.address, input.pickupEnabled);
  try {
    const created = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      await requireRole(tx, shopId, userId, ["owner"], "add locations");
      // Serializes location changes of one shop, so the count below holds.
      await tx.select({ id: shops.id }).from(shops).where(eq(shops.id, shopId)).for("update");
      const [live] = await tx
        .select({ n: count() })
        .from(shopLocations)
        .where(and(eq(shopLocations.shopId, shopId), isNull(shopLocations.deletedAt)));
      if ((live?.n ?? 0) >= MAX_LOCATIONS_PER_SHOP) {
        throw new Conflict(`A shop has at most ${MAX_LOCATIONS_PER_SHOP} locations in use.`);
      }
      const [row] = await tx
        .insert(shopLocations)
        .values({
          id: uuidv7(),
          shopId,
          kind: input.kind,
          name: input.name,
          code: input.code,
          address: input.address ? toAddress(input.address) : null,
          latitude: input.coordinates?.latitude ?? null,
          longitude: input.coordinates?.longitude ?? null,
          openingHours: normalizeHours(input.openingHours ?? {}),
          pickupEnabled: input.kind === "branch" && (input.pickupEnabled ?? true),
        })
        .returning();
      if (!row) throw new Error("insert returned no location");
      const view = locationView(row);
      await audit.record({
        action: "shop.location.created",
        entityType: "shop",
        entityId: shopId,
        newValue: view,
      });
      return view;
    });
    await forgetShopListings(ctx, shopId);
    return created;
  } catch (err) {
    throw conflictOf(err, "kind") ?? err;
  }
}

/** The columns an update writes, from the fields given. */
function changes(input: z.output<typeof updateLocationInput>): Partial<LocationRow> {
  const set: Partial<LocationRow> = {};
  if (input.name !== undefined) set.name = input.name;
  if (input.code !== undefined) set.code = input.code;
  if (input.address !== undefined) set.address = input.address ? toAddress(input.address) : null;
  if (input.coordinates !== undefined) {
    set.latitude = input.coordinates?.latitude ?? null;
    set.longitude = input.coordinates?.longitude ?? null;
  }
  if (input.openingHours !== undefined) set.openingHours = normalizeHours(input.openingHours);
  if (input.pickupEnabled !== undefined) set.pickupEnabled = input.pickupEnabled;
  if (input.retired === false) set.deletedAt = null;
  return set;
}

/**
 * Edits a location (the owner: anything; a manager: MANAGER_LOCATION_FIELDS), audited with the
 * location before and after. `retired: false` brings a retired location back, unless the shop
 * has another warehouse in use by then (409).
 */
export async function updateLocation(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  locationId: string,
  raw: UpdateLocationInput,
): Promise<LocationView> {
  const input = parseOr422(updateLocationInput, raw);
  try {
    const updated = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      const role = await requireRole(tx, shopId, userId, ["owner", "manager"], "change locations");
      if (role !== "owner") {
        const ownerOnly = (Object.keys(input) as UpdateField[]).filter(
          (f) => input[f] !== undefined && !MANAGER_LOCATION_FIELDS.includes(f),
        );
        if (ownerOnly.length > 0) {
          throw new Forbidden(
            `Only the shop's owner can change ${ownerOnly.join(", ")} of a location; a ` +
              `manager can change ${MANAGER_LOCATION_FIELDS.join(", ")}.`,
          );
        }
      }
      const [before] = await tx
        .select()
        .from(shopLocations)
        .where(own(shopId, locationId))
        .for("update");
      if (!before) throw new NotFound("location", locationId);
      // A branch made before addresses existed keeps working until someone gives it one;
      // what cannot happen is taking a branch's address away.
      const address = input.address === undefined ? (before.address ?? "unchanged") : input.address;
      checkKindRules(before.kind, address, input.pickupEnabled);
      const [after] = await tx
        .update(shopLocations)
        .set({ ...changes(input), updatedAt: new Date() })
        .where(own(shopId, locationId))
        .returning();
      if (!after) throw new NotFound("location", locationId);
      const reinstated = before.deletedAt !== null && after.deletedAt === null;
      await audit.record({
        action: reinstated ? "shop.location.reinstated" : "shop.location.updated",
        entityType: "shop",
        entityId: shopId,
        oldValue: locationView(before),
        newValue: locationView(after),
      });
      return locationView(after);
    });
    await forgetShopListings(ctx, shopId);
    return updated;
  } catch (err) {
    throw conflictOf(err, "retired") ?? err;
  }
}

/**
 * Whether Postgres has anything that names the location: stock movements (the mirror of every
 * unit that was ever there), orders (picked from it or collected at it), stock requests and
 * low-stock alerts. One statement; each probe goes through the shop's own rows.
 */
async function namedInPostgres(db: Queryable, shopId: string, locationId: string) {
  const result = await db.execute<{ used: boolean }>(sql`select
      exists (select 1 from ${stockMovements} m join ${products} p on p.id = m.product_id
        where p.shop_id = ${shopId} and m.location_id = ${locationId})
      or exists (select 1 from ${orderItems} i join ${orders} o on o.id = i.order_id
        where o.shop_id = ${shopId} and i.location_id = ${locationId})
      or exists (select 1 from ${orders} o
        where o.shop_id = ${shopId} and o.pickup_location_id = ${locationId})
      or exists (select 1 from ${stockRequests} r
        where r.shop_id = ${shopId} and r.location_id = ${locationId})
      or exists (select 1 from stock_alerts a
        where a.shop_id = ${shopId} and a.location_id = ${locationId}) as used`);
  return result.rows[0]?.used === true;
}

/**
 * Whether a stock object holds something at the location that its outbox has not mirrored to
 * Postgres yet: the products with a movement noted at write time (stock_movement_owners) that
 * the mirror does not have. Those objects are asked directly; one that cannot be asked, or more
 * of them than MAX_UNMIRRORED_PRODUCTS, counts as in use: when in doubt, retire.
 */
async function heldInObjects(ctx: ServiceContext, shopId: string, locationId: string) {
  const pending = await ctx.db
    .selectDistinct({ productId: stockMovementOwners.productId })
    .from(stockMovementOwners)
    .innerJoin(products, eq(products.id, stockMovementOwners.productId))
    .where(
      and(
        eq(products.shopId, shopId),
        sql`not exists (select 1 from ${stockMovements} m
          where m.id = ${stockMovementOwners.movementId})`,
      ),
    )
    .limit(MAX_UNMIRRORED_PRODUCTS + 1);
  if (pending.length > MAX_UNMIRRORED_PRODUCTS) return true;
  const held = await Promise.all(
    pending.map(async ({ productId }) => {
      try {
        const snap = await stockOf(ctx.stock, productId).snapshot();
        return snap.locations.some((l) => l.locationId === locationId);
      } catch {
        return true;
      }
    }),
  );
  return held.some(Boolean);
}

export interface RemovedLocation {
  /** `deleted`: nothing named it, it is gone. `retired`: kept for what names it, never offered. */
  result: "deleted" | "retired";
  location: LocationView;
}

/**
 * The owner removes a location. One that stock, orders, stock requests or alerts name is
 * retired (kept, no longer offered to imports, stock writes, checkout or buyers; its existing
 * stock and open orders stay where they are); one that nothing names is deleted. The shop's last
 * location in use cannot go (409): every order needs a location to take its units from.
 * Removing a retired location that is still named answers `retired` again and changes nothing.
 */
export async function removeLocation(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  locationId: string,
): Promise<RemovedLocation> {
  await requireRole(ctx.db, shopId, userId, ["owner"], "remove locations");
  const [current] = await ctx.db.select().from(shopLocations).where(own(shopId, locationId));
  if (!current) throw new NotFound("location", locationId);
  const [pg, objects] = await Promise.all([
    namedInPostgres(ctx.db, shopId, locationId),
    heldInObjects(ctx, shopId, locationId),
  ]);
  const used = pg || objects;
  if (used && current.deletedAt) return { result: "retired", location: locationView(current) };
  const removed = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    await requireRole(tx, shopId, userId, ["owner"], "remove locations");
    await tx.select({ id: shops.id }).from(shops).where(eq(shops.id, shopId)).for("update");
    const [before] = await tx
      .select()
      .from(shopLocations)
      .where(own(shopId, locationId))
      .for("update");
    if (!before) throw new NotFound("location", locationId);
    if (before.deletedAt === null) {
      const [others] = await tx
        .select({ n: count() })
        .from(shopLocations)
        .where(
          and(
            eq(shopLocations.shopId, shopId),
            isNull(shopLocations.deletedAt),
            ne(shopLocations.id, locationId),
          ),
        );
      if ((others?.n ?? 0) === 0) {
        throw new Conflict("The shop's last location in use cannot be removed; add another first.");
      }
    }
    // Looked at again under the lock: an order may have named it since the first look.
    if (used || (await namedInPostgres(tx, shopId, locationId))) {
      const [after] = await tx
        .update(shopLocations)
        .set({ deletedAt: before.deletedAt ?? new Date(), updatedAt: new Date() })
        .where(own(shopId, locationId))
        .returning();
      if (!after) throw new NotFound("location", locationId);
      await audit.record({
        action: "shop.location.retired",
        entityType: "shop",
        entityId: shopId,
        oldValue: locationView(before),
        newValue: locationView(after),
      });
      return { result: "retired" as const, location: locationView(after) };
    }
    await tx.delete(shopLocations).where(own(shopId, locationId));
    await audit.record({
      action: "shop.location.deleted",
      entityType: "shop",
      entityId: shopId,
      oldValue: locationView(before),
    });
    return { result: "deleted" as const, location: locationView(before) };
  });
  await forgetShopListings(ctx, shopId);
  return removed;
}

/** A branch as buyers see it. */
export interface BranchView {
  id: string;
  name: string;
  address: LocationAddress | null;
  coordinates: { latitude: number; longitude: number } | null;
  openingHours: OpeningHours;
  /** Whether its opening hours hold now, in the shop's time zone. */
  openNow: boolean;
  pickupEnabled: boolean;
}

/**
 * A visible shop's branches in use, for buyers: where they are, their hours in the shop's time
 * zone and whether they are open now. A shop buyers cannot see is a 404, whoever asks, as its
 * other public reads are.
 */
export async function listBranches(
  ctx: ServiceContext,
  shopId: string,
  now: Date = new Date(),
): Promise<{ shopId: string; timeZone: string; items: BranchView[] }> {
  const [shop] = await ctx.db
    .select()
    .from(shops)
    .where(and(eq(shops.id, shopId), isNull(shops.deletedAt)));
  if (!shop || !isShopVisible(shop)) throw new NotFound("shop", shopId);
  const rows = await ctx.db
    .select()
    .from(shopLocations)
    .where(
      and(
        eq(shopLocations.shopId, shopId),
        eq(shopLocations.kind, "branch"),
        isNull(shopLocations.deletedAt),
      ),
    )
    .orderBy(asc(shopLocations.name), asc(shopLocations.id));
  return {
    shopId,
    timeZone: shop.timeZone,
    items: rows.map((l) => {
      const v = locationView(l);
      return {
        id: v.id,
        name: v.name,
        address: v.address,
        coordinates: v.coordinates,
        openingHours: v.openingHours,
        openNow: isOpenAt(l.openingHours, shop.timeZone, now),
        pickupEnabled: v.pickupEnabled,
      };
    }),
  };
}
