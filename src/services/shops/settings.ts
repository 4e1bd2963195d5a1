import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import type { Queryable } from "../../db/client.ts";
import { auctions } from "../../db/schema/auctions.ts";
import { products } from "../../db/schema/catalog.ts";
import { orders } from "../../db/schema/orders.ts";
import { type Shop, type ShopRole, shopOtps, shops } from "../../db/schema/shops.ts";
import { SUPPORTED_CURRENCIES } from "../../lib/currencies.ts";
import { parseOr422 } from "../../lib/input.ts";
import { MAX_TAX_RATE_BPS } from "../../lib/tax.ts";
import { text } from "../../lib/text.ts";
import { bumpCatalogVersion } from "../catalog/cache-keys.ts";
import { forgetSnapshots, listingKey } from "../checkout/snapshots.ts";
import type { ServiceContext } from "../context.ts";
import { syncScheduleTimeZone } from "../delivery/slots.ts";
import { Conflict, errorMessage, Forbidden, NotFound } from "../errors.ts";
import { E164 } from "../notifications/message.ts";
import { requireShopPermission } from "./access.ts";
import { timeZoneSchema } from "./hours.ts";
import { managedView, type ShopManagedView } from "./views.ts";

/** Largest delivery fee or free-delivery minimum, in minor units (an order total must fit). */
export const MAX_DELIVERY_AMOUNT_MINOR = 100_000_000;

const deliveryAmount = z.number().int().min(0).max(MAX_DELIVERY_AMOUNT_MINOR);

export const shopSettingsInput = z
  .object({
    name: text().trim().min(2).max(80).optional(),
    description: text().trim().max(2000).optional(),
    contactEmail: z
      .email()
      .max(254)
      .transform((e) => e.toLowerCase())
      .optional(),
    contactPhone: z.string().regex(E164, "must be E.164, e.g. +4915112345678").optional(),
    currency: z
      .enum(SUPPORTED_CURRENCIES, { error: `must be one of ${SUPPORTED_CURRENCIES.join(", ")}` })
      .optional(),
    timeZone: timeZoneSchema.optional(),
    deliveryFeeMinor: deliveryAmount
      .nullable()
      .optional()
      .meta({
        description:
          "Delivery fee in minor units of the shop's currency when the order is under the " +
          "free-delivery minimum; null: the platform default.",
      }),
    freeDeliveryMinMinor: deliveryAmount.nullable().optional().meta({
      description:
        "Subtotal (minor units) from which delivery is free; null: the platform default.",
    }),
    pricesIncludeTax: z
      .boolean()
      .optional()
      .meta({
        description:
          "True: prices and the delivery fee are entered with tax in them (the tax is extracted " +
          "per line); false: tax is added on top of them per line at checkout.",
      }),
    taxRateBps: z
      .int()
      .min(0)
      .max(MAX_TAX_RATE_BPS)
      .optional()
      .meta({
        description:
          "The shop's default tax rate in basis points (1700 = 17%): products of a category " +
          "without a rate of its own (`/v1/seller/shops/{id}/tax-rates`) and the delivery fee.",
      }),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), {
    message: "give at least one field to change",
    path: ["name"],
  })
  .meta({ minProperties: 1 });
export type ShopSettingsInput = z.input<typeof shopSettingsInput>;
type Settings = z.output<typeof shopSettingsInput>;
type Field = keyof Settings;

/**
 * Who may change what. Owners: everything. Managers run the shop day to day: how buyers reach
 * it by phone and what delivery costs. The shop's identity (name, description), its verified
 * contact email (buyers see the shop only while it is verified), its currency, time zone and tax
 * settings stay with the owner. Staff change nothing (403); someone off the team gets 404.
 */
export const MANAGER_SHOP_FIELDS: readonly Field[] = [
  "contactPhone",
  "deliveryFeeMinor",
  "freeDeliveryMinMinor",
];
const EDITORS: readonly ShopRole[] = ["owner", "manager"];

/** The shop as its team sees it, with the settings this module changes. */
export interface ShopSettingsView extends ShopManagedView {
  timeZone: string;
  /** Null: the platform default applies. */
  deliveryFeeMinor: number | null;
  freeDeliveryMinMinor: number | null;
  pricesIncludeTax: boolean;
  /** The default rate, basis points; a category may have its own (./tax-rates.ts). */
  taxRateBps: number;
}

export function settingsView(s: Shop, role: ShopRole | null): ShopSettingsView {
  return {
    ...managedView(s, role),
    timeZone: s.timeZone,
    deliveryFeeMinor: s.deliveryFeeMinor,
    freeDeliveryMinMinor: s.freeDeliveryMinMinor,
    pricesIncludeTax: s.pricesIncludeTax,
    taxRateBps: s.taxRateBps,
  };
}

/** Any member reads the settings; off the team, 404. */
export async function getShopSettings(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
): Promise<ShopSettingsView> {
  const { shop, role } = await requireShopPermission(ctx.db, shopId, userId, "catalog.read");
  return settingsView(shop, role);
}

/** The fields whose value would change, old and new (the audit row's two sides). */
function diff(before: Shop, input: Settings): { old: Partial<Settings>; next: Partial<Settings> } {
  const old: Record<string, unknown> = {};
  const next: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const was = before[field as Field];
    if (was !== value) {
      old[field] = was;
      next[field] = value;
    }
  }
  return { old: old as Partial<Settings>, next: next as Partial<Settings> };
}

/** Whether anything was ever sold or is being auctioned in the shop's currency. */
async function currencyInUse(db: Queryable, shopId: string): Promise<boolean> {
  const result = await db.execute<{ used: boolean }>(sql`select
      exists (select 1 from ${orders} where ${orders.shopId} = ${shopId})
      or exists (select 1 from ${auctions} where ${auctions.shopId} = ${shopId}
        and ${auctions.status} in ('scheduled', 'active')) as used`);
  return result.rows[0]?.used === true;
}

/**
 * Drops the purchase snapshots (src/services/checkout/snapshots.ts) of the shop's products, so
 * the next preview reads the shop's new fees, currency or branches instead of failing at the
 * write's guard. Never throws: a snapshot left behind is refused by that guard and expires.
 */
export async function forgetShopListings(ctx: ServiceContext, shopId: string): Promise<void> {
  if (!ctx.redis) return;
  try {
    const rows = await ctx.db
      .select({ id: products.id })
      .from(products)
      .where(and(eq(products.shopId, shopId), isNull(products.deletedAt)));
    for (let i = 0; i < rows.length; i += 500) {
      await forgetSnapshots(
        ctx,
        rows.slice(i, i + 500).map((r) => listingKey(r.id)),
      );
    }
  } catch (err) {
    ctx.logger.warn("could not drop the shop's purchase snapshots; they expire", {
      shopId,
      error: errorMessage(err),
    });
  }
}

/**
 * Moves the shop's delivery windows to its new time zone, so a window at 08:00 stays at 08:00
 * local time (src/services/delivery/slots.ts). Runs after the commit, when the route attached the
 * DeliverySlots namespace; a failure is logged, not thrown: the shop's change stands, and the
 * owner setting the schedule again repairs it.
 */
async function keepDeliveryWindows(ctx: ServiceContext, shopId: string, timeZone: string) {
  const ns = ctx.slots;
  try {
    await syncScheduleTimeZone(ctx, ns, shopId, timeZone);
  } catch (err) {
    ctx.logger.error("delivery windows kept the old time zone; set the schedule again", {
      shopId,
      timeZone,
      error: errorMessage(err),
    });
  }
}

/**
 * Changes a shop's settings: one UPDATE and one `shop.updated` audit row (the changed fields,
 * old and new) in one transaction. A currency change is refused (409 naming `currency`) once
 * the shop has an order or a live auction, and carries the shop's products along (their prices
 * stay the same numbers of minor units: re-price them). A new contact email or phone is not
 * verified: its verification and any code sent to the old one are void, and a shop whose email
 * is unverified is hidden from buyers until it verifies again. Afterwards the catalog cache and
 * the shop's purchase snapshots are dropped, as for every shop change buyers can see.
 */
export async function updateShopSettings(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  raw: ShopSettingsInput,
): Promise<ShopSettingsView> {
  const input = parseOr422(shopSettingsInput, raw);
  const outcome = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const { role } = await requireShopPermission(tx, shopId, userId, "catalog.read");
    if (!EDITORS.includes(role)) {
      throw new Forbidden(`Your role in this shop (${role}) cannot change its settings.`);
    }
    const [before] = await tx
      .select()
      .from(shops)
      .where(and(eq(shops.id, shopId), isNull(shops.deletedAt)))
      .for("update");
    if (!before) throw new NotFound("shop", shopId);
    if (role !== "owner") {
      const ownerOnly = (Object.keys(input) as Field[]).filter(
        (f) => input[f] !== undefined && !MANAGER_SHOP_FIELDS.includes(f),
      );
      if (ownerOnly.length > 0) {
        throw new Forbidden(
          `Only the shop's owner can change ${ownerOnly.join(", ")}; a manager can change ` +
            `${MANAGER_SHOP_FIELDS.join(", ")}.`,
        );
      }
    }
    const { old, next } = diff(before, input);
    if (next.currency !== undefined && (await currencyInUse(tx, shopId))) {
      throw new Conflict("The shop's currency cannot change once it has orders or auctions.", {
        errors: [{ field: "currency", in: "body", message: "cannot change: the shop has orders" }],
      });
    }
    const now = new Date();
    const [after] = await tx
      .update(shops)
      .set({
        ...next,
        ...(next.contactEmail !== undefined ? { emailVerifiedAt: null } : {}),
        ...(next.contactPhone !== undefined ? { phoneVerifiedAt: null } : {}),
        updatedAt: now,
      })
      .where(eq(shops.id, shopId))
      .returning();
    if (!after) throw new NotFound("shop", shopId);
    const voided: Array<"email" | "phone"> = [];
    if (next.contactEmail !== undefined) voided.push("email");
    if (next.contactPhone !== undefined) voided.push("phone");
    if (voided.length > 0) {
      await tx
        .update(shopOtps)
        .set({ voidedAt: now })
        .where(
          and(
            eq(shopOtps.shopId, shopId),
            inArray(shopOtps.purpose, voided),
            isNull(shopOtps.consumedAt),
            isNull(shopOtps.voidedAt),
          ),
        );
    }
    if (next.currency !== undefined) {
      await tx
        .update(products)
        .set({ currency: next.currency, updatedAt: now })
        .where(eq(products.shopId, shopId));
      // An order written while this ran would have passed the write's guard on the old
      // currency; looking again before commit leaves only that statement's own instant open.
      if (await currencyInUse(tx, shopId)) {
        throw new Conflict("The shop's currency cannot change once it has orders or auctions.", {
          errors: [
            { field: "currency", in: "body", message: "cannot change: the shop has orders" },
          ],
        });
      }
    }
    await audit.record({
      action: "shop.updated",
      entityType: "shop",
      entityId: shopId,
      oldValue: {
        ...old,
        ...(next.contactEmail !== undefined
          ? { emailVerifiedAt: before.emailVerifiedAt?.toISOString() ?? null }
          : {}),
        ...(next.contactPhone !== undefined
          ? { phoneVerifiedAt: before.phoneVerifiedAt?.toISOString() ?? null }
          : {}),
      },
      newValue: {
        ...next,
        ...(next.contactEmail !== undefined ? { emailVerifiedAt: null } : {}),
        ...(next.contactPhone !== undefined ? { phoneVerifiedAt: null } : {}),
      },
    });
    return {
      shop: after,
      role,
      changed: Object.keys(next).length > 0,
      timeZoneChanged: next.timeZone !== undefined,
    };
  });
  if (outcome.changed) {
    await bumpCatalogVersion(ctx.cache, { kind: "shop", shopId });
    await forgetShopListings(ctx, shopId);
  }
  if (outcome.timeZoneChanged) await keepDeliveryWindows(ctx, shopId, outcome.shop.timeZone);
  return settingsView(outcome.shop, outcome.role);
}
