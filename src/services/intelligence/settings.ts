import { eq } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import type { Queryable } from "../../db/client.ts";
import { reorderSettings } from "../../db/schema/intelligence.ts";
import { parseOr422 } from "../../lib/input.ts";
import type { ServiceContext } from "../context.ts";
import { requireProduct } from "../inventory/access.ts";
import { DEFAULT_LEAD_TIME_DAYS, DEFAULT_SERVICE_LEVEL } from "./reorder.ts";

export const reorderSettingsInput = z
  .object({
    leadTimeDays: z.number().int().min(1).max(365).nullable().optional(),
    serviceLevel: z.number().min(0.5).max(0.999).nullable().optional(),
  })
  .refine((v) => v.leadTimeDays !== undefined || v.serviceLevel !== undefined, {
    message: "give leadTimeDays, serviceLevel or both",
  });

export interface ReorderSettingsView {
  productId: string;
  /** What the shop set (null: the default applies). */
  leadTimeDays: number | null;
  serviceLevel: number | null;
  /** What the reorder points use. */
  effective: { leadTimeDays: number; serviceLevel: number };
  updatedAt: string | null;
}

async function read(db: Queryable, productId: string): Promise<ReorderSettingsView> {
  const [row] = await db
    .select()
    .from(reorderSettings)
    .where(eq(reorderSettings.productId, productId));
  return {
    productId,
    leadTimeDays: row?.leadTimeDays ?? null,
    serviceLevel: row?.serviceLevel ?? null,
    effective: {
      leadTimeDays: row?.leadTimeDays ?? DEFAULT_LEAD_TIME_DAYS,
      serviceLevel: row?.serviceLevel ?? DEFAULT_SERVICE_LEVEL,
    },
    updatedAt: row?.updatedAt.toISOString() ?? null,
  };
}

/** A product's reorder settings, for owners and managers of its shop (anyone else 404). */
export async function getReorderSettings(
  ctx: ServiceContext,
  userId: string,
  productId: string,
): Promise<ReorderSettingsView> {
  await requireProduct(ctx.db, { productId, userId, permission: "analytics.read" });
  return read(ctx.db, productId);
}

/**
 * Sets a product's lead time and/or service level (null goes back to the default), audited.
 * Owners and managers of its shop; staff 403; anyone else 404. The next reorder read uses them.
 */
export async function updateReorderSettings(
  ctx: ServiceContext,
  userId: string,
  productId: string,
  raw: z.input<typeof reorderSettingsInput>,
): Promise<ReorderSettingsView> {
  const input = parseOr422(reorderSettingsInput, raw);
  return withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const scope = await requireProduct(tx, { productId, userId, permission: "analytics.read" });
    const before = await read(tx, productId);
    const next = {
      leadTimeDays: input.leadTimeDays === undefined ? before.leadTimeDays : input.leadTimeDays,
      serviceLevel: input.serviceLevel === undefined ? before.serviceLevel : input.serviceLevel,
    };
    const now = new Date();
    await tx
      .insert(reorderSettings)
      .values({ productId, shopId: scope.shopId, ...next, updatedBy: userId, updatedAt: now })
      .onConflictDoUpdate({
        target: reorderSettings.productId,
        set: { ...next, updatedBy: userId, updatedAt: now },
      });
    await audit.record({
      action: "reorder_settings.updated",
      entityType: "product",
      entityId: productId,
      oldValue: { leadTimeDays: before.leadTimeDays, serviceLevel: before.serviceLevel },
      newValue: next,
    });
    return read(tx, productId);
  });
}
