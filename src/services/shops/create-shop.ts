import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import { shopLocations, shopMembers, shops } from "../../db/schema/shops.ts";
import { SUPPORTED_CURRENCIES } from "../../lib/currencies.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { text } from "../../lib/text.ts";
import { isUniqueViolation, type ServiceContext } from "../context.ts";
import { Conflict } from "../errors.ts";
import { E164 } from "../notifications/message.ts";
import { timeZoneSchema } from "./hours.ts";
import { managedView, type ShopManagedView } from "./views.ts";

/** The currencies a shop may price in, with their minor units: src/lib/currencies.ts. */
export { SUPPORTED_CURRENCIES };

/** Lowercase letters, digits and single inner hyphens: `my-shop-2`. */
export const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export const createShopInput = z.object({
  name: text().trim().min(2).max(80),
  slug: z
    .string()
    .min(3)
    .max(60)
    .regex(SLUG, "must be lowercase letters, digits and single hyphens, e.g. my-shop"),
  description: text().trim().max(2000).default(""),
  contactEmail: z
    .email()
    .max(254)
    .transform((e) => e.toLowerCase()),
  contactPhone: z.string().regex(E164, "must be E.164, e.g. +4915112345678"),
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, "must be an ISO 3166-1 alpha-2 code")
    .transform((c) => c.toUpperCase()),
  currency: z.enum(SUPPORTED_CURRENCIES, {
    error: `must be one of ${SUPPORTED_CURRENCIES.join(", ")}`,
  }),
  /** Where its branches' opening hours are read; UTC when not given. */
  timeZone: timeZoneSchema.optional(),
});
export type CreateShopInput = z.input<typeof createShopInput>;

/**
 * Opens a shop for the seller: `pending` and invisible to buyers until its contact email is
 * verified and an admin approves it. The shop, its owner membership, its default warehouse
 * (code `WH`) and the audit row commit together.
 */
export async function createShop(
  ctx: ServiceContext,
  ownerId: string,
  raw: CreateShopInput,
): Promise<ShopManagedView> {
  const input = createShopInput.parse(raw);
  try {
    return await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      const id = uuidv7();
      const [shop] = await tx
        .insert(shops)
        .values({ ...input, id, ownerId, status: "pending" })
        .returning();
      if (!shop) throw new Error("insert returned no shop");
      await tx.insert(shopMembers).values({ shopId: id, userId: ownerId, role: "owner" });
      await tx
        .insert(shopLocations)
        .values({ id: uuidv7(), shopId: id, kind: "warehouse", name: "Warehouse", code: "WH" });
      const view = managedView(shop, "owner");
      await audit.record({
        action: "shop.created",
        entityType: "shop",
        entityId: id,
        newValue: view,
      });
      return view;
    });
  } catch (err) {
    if (isUniqueViolation(err, "shops_slug_live_key")) {
      throw new Conflict(`The slug "${input.slug}" is taken.`, {
        errors: [{ field: "slug", in: "body", message: "is taken" }],
      });
    }
    throw err;
  }
}
