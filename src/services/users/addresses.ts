import { and, desc, eq, isNull, lt } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import type { Tx } from "../../db/client.ts";
import { type Address, addresses } from "../../db/schema/addresses.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { decodeCursor, type Page, toPage } from "../../lib/pagination.ts";
import { text } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { NotFound, ValidationFailed } from "../errors.ts";

export const addressFields = z.object({
  label: text().trim().max(40).nullable().optional(),
  recipientName: text().trim().min(1).max(120),
  line1: text().trim().min(1).max(200),
  line2: text().trim().max(200).nullable().optional(),
  city: text().trim().min(1).max(120),
  region: text().trim().max(120).nullable().optional(),
  postalCode: text().trim().min(1).max(20),
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, "must be an ISO 3166-1 alpha-2 code")
    .transform((c) => c.toUpperCase()),
  phone: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, "must be E.164, e.g. +4915112345678")
    .nullable()
    .optional(),
  isDefault: z.boolean().optional(),
});
export const createAddressInput = addressFields;
export const updateAddressInput = addressFields.partial();

export interface AddressView {
  id: string;
  label: string | null;
  recipientName: string;
  line1: string;
  line2: string | null;
  city: string;
  region: string | null;
  postalCode: string;
  country: string;
  phone: string | null;
  isDefault: boolean;
  createdAt: string;
  updatedAt: string;
}

function view(a: Address): AddressView {
  return {
    id: a.id,
    label: a.label,
    recipientName: a.recipientName,
    line1: a.line1,
    line2: a.line2,
    city: a.city,
    region: a.region,
    postalCode: a.postalCode,
    country: a.country,
    phone: a.phone,
    isDefault: a.isDefault,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}

const own = (userId: string, id: string) =>
  and(eq(addresses.id, id), eq(addresses.userId, userId), isNull(addresses.deletedAt));

async function clearDefault(tx: Tx, userId: string): Promise<void> {
  await tx
    .update(addresses)
    .set({ isDefault: false })
    .where(and(eq(addresses.userId, userId), eq(addresses.isDefault, true)));
}

/** The user's addresses, newest first. */
export async function listAddresses(
  ctx: ServiceContext,
  userId: string,
  q: { limit: number; cursor?: string | undefined },
): Promise<Page<AddressView>> {
  const after = q.cursor ? decodeCursor(q.cursor, z.object({ id: z.uuid() })) : null;
  if (q.cursor && !after) {
    throw new ValidationFailed([
      { field: "cursor", in: "query", message: "is not a valid cursor" },
    ]);
  }
  const rows = await ctx.db
    .select()
    .from(addresses)
    .where(
      and(
        eq(addresses.userId, userId),
        isNull(addresses.deletedAt),
        after ? lt(addresses.id, after.id) : undefined,
      ),
    )
    .orderBy(desc(addresses.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (a) => ({ id: a.id }));
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}

/** One address of the user; another user's answers NOT_FOUND, never FORBIDDEN. */
export async function getAddress(
  ctx: ServiceContext,
  userId: string,
  id: string,
): Promise<AddressView> {
  const [row] = await ctx.db.select().from(addresses).where(own(userId, id));
  if (!row) throw new NotFound("address", id);
  return view(row);
}

export async function createAddress(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof createAddressInput>,
): Promise<AddressView> {
  const input = createAddressInput.parse(raw);
  return withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    if (input.isDefault) await clearDefault(tx, userId);
    const [row] = await tx
      .insert(addresses)
      .values({ ...input, id: uuidv7(), userId, isDefault: input.isDefault ?? false })
      .returning();
    if (!row) throw new Error("insert returned no address");
    await audit.record({
      action: "address.created",
      entityType: "address",
      entityId: row.id,
      newValue: view(row),
    });
    return view(row);
  });
}

export async function updateAddress(
  ctx: ServiceContext,
  userId: string,
  id: string,
  raw: z.input<typeof updateAddressInput>,
): Promise<AddressView> {
  const input = updateAddressInput.parse(raw);
  return withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [before] = await tx.select().from(addresses).where(own(userId, id)).for("update");
    if (!before) throw new NotFound("address", id);
    if (input.isDefault) await clearDefault(tx, userId);
    const [after] = await tx
      .update(addresses)
      .set({ ...input, updatedAt: new Date() })
      .where(eq(addresses.id, id))
      .returning();
    if (!after) throw new NotFound("address", id);
    await audit.record({
      action: "address.updated",
      entityType: "address",
      entityId: id,
      oldValue: view(before),
      newValue: view(after),
    });
    return view(after);
  });
}

/** Soft-deletes; deleting twice answers NOT_FOUND the second time. */
export async function deleteAddress(
  ctx: ServiceContext,
  userId: string,
  id: string,
): Promise<void> {
  await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [row] = await tx
      .update(addresses)
      .set({ deletedAt: new Date(), isDefault: false })
      .where(own(userId, id))
      .returning();
    if (!row) throw new NotFound("address", id);
    await audit.record({
      action: "address.deleted",
      entityType: "address",
      entityId: id,
      oldValue: view(row),
    });
  });
}
