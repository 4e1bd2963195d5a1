import { and, desc, eq, gte, ilike, isNull, lt, or, sql } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import { salesTransactions } from "../../db/schema/analytics.ts";
import { products } from "../../db/schema/catalog.ts";
import { parseOr422 } from "../../lib/input.ts";
import { decodeCursor, type Page, pageQuery, toPage } from "../../lib/pagination.ts";
import { containsPattern, text } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { ValidationFailed } from "../errors.ts";
import { shopLocationsOf } from "../inventory/access.ts";
import { adjustStock } from "../inventory/stock.ts";
import { requireShopPermission } from "../shops/access.ts";

/** How a sale arrived: quick entry, a CSV upload, a receipt read by OCR. */
export const SALE_SOURCES = ["manual", "import", "receipt"] as const;
export type SaleSource = (typeof SALE_SOURCES)[number];

/** The most units one quick entry takes; a bigger delivery is a stock adjustment, not a sale. */
export const MAX_SALE_QUANTITY = 100_000;
/** A sale may be dated this far ahead of the server's clock (a till's clock running fast). */
const FUTURE_SKEW_MS = 5 * 60_000;

const customerShape = z
  .object({
    email: z.email().max(254).optional(),
    phone: text()
      .trim()
      .regex(/^\+?[0-9 ()-]{4,32}$/, "must be a phone number (digits, spaces, + ( ) -)")
      .optional(),
    name: text().trim().min(1).max(200).optional(),
  })
  .meta({ minProperties: 1 });

export const saleShape = z
  .object({
    shopId: z.uuid(),
    /** The product, by id or by the shop's SKU: exactly one of the two. */
    productId: z.uuid().optional(),
    sku: text().trim().min(1).max(64).optional(),
    quantity: z.int().min(1).max(MAX_SALE_QUANTITY),
    /** Minor units of the shop's currency; the product's current price when left out. */
    unitPriceMinor: z.int().min(0).max(100_000_000).optional(),
    /** When it was sold; now when left out. Never in the future. */
    soldAt: z.iso.datetime({ offset: true }).optional(),
    /** The branch or warehouse the units leave; may be left out when the shop has one location. */
    locationId: z.uuid().optional(),
    customer: customerShape.optional(),
    note: text().trim().max(500).optional(),
  })
  .meta({ oneOf: [{ required: ["productId"] }, { required: ["sku"] }] });

export const saleInput = saleShape.superRefine((v, ctx) => {
  if ((v.productId === undefined) === (v.sku === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["productId"],
      message: "give productId or sku, not both",
    });
  }
  if (v.customer && Object.keys(v.customer).length === 0) {
    ctx.addIssue({ code: "custom", path: ["customer"], message: "name email, phone or name" });
  }
  if (v.soldAt && Date.parse(v.soldAt) > Date.now() + FUTURE_SKEW_MS) {
    ctx.addIssue({ code: "custom", path: ["soldAt"], message: "must not be in the future" });
  }
});

export const saleListQuery = pageQuery.extend({
  shopId: z.uuid(),
  productId: z.uuid().optional(),
  locationId: z.uuid().optional(),
  source: z.enum(SALE_SOURCES).optional(),
  /** Matches the customer's email, phone or name (case-insensitive, part of it). */
  customer: text().trim().min(1).max(200).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

export interface SaleView {
  id: string;
  shopId: string;
  productId: string;
  sku: string;
  title: string;
  locationId: string;
  quantity: number;
  unitPriceMinor: number;
  totalMinor: number;
  currency: string;
  soldAt: string;
  customer: { email: string | null; phone: string | null; name: string | null } | null;
  note: string | null;
  source: SaleSource;
  movementId: string;
  createdBy: string;
  createdAt: string;
}

export interface SaleResult {
  sale: SaleView;
  /** True when the Idempotency-Key was seen before: the first sale, nothing taken again. */
  replayed: boolean;
}

type SaleRow = typeof salesTransactions.$inferSelect;

function saleView(r: SaleRow): SaleView {
  const hasCustomer = r.customerEmail ?? r.customerPhone ?? r.customerName;
  return {
    id: r.id,
    shopId: r.shopId,
    productId: r.productId,
    sku: r.sku,
    title: r.title,
    locationId: r.locationId,
    quantity: r.quantity,
    unitPriceMinor: r.unitPriceMinor,
    totalMinor: r.totalMinor,
    currency: r.currency,
    soldAt: r.soldAt.toISOString(),
    customer: hasCustomer
      ? { email: r.customerEmail, phone: r.customerPhone, name: r.customerName }
      : null,
    note: r.note,
    source: r.source as SaleSource,
    movementId: r.movementId,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
  };
}

/**
 * Records a sale made outside Souk (owner, manager): the units leave stock at the location
 * through the product's ProductStock object, as a seller's stock adjustment does (same service,
 * so the same checks, alerts and audit by the object's outbox), then the sale is written with
 * its audit row. The sale's id is the movement's, so a retry with the same Idempotency-Key
 * (which the object replays) finds the sale already written and takes nothing twice. Not
 * enough available → 409 INSUFFICIENT_STOCK and nothing is recorded. `source` says how it
 * arrived (a CSV upload passes `import`, keyed by upload and row).
 */
export async function recordSale(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof saleInput>,
  idempotencyKey?: string,
  source: SaleSource = "manual",
): Promise<SaleResult> {
  const input = parseOr422(saleInput, raw);
  const { shop } = await requireShopPermission(ctx.db, input.shopId, userId, "sales.write");
  const [product] = await ctx.db
    .select({
      id: products.id,
      sku: products.sku,
      title: products.title,
      priceMinor: products.priceMinor,
    })
    .from(products)
    .where(
      and(
        eq(products.shopId, shop.id),
        isNull(products.deletedAt),
        input.productId ? eq(products.id, input.productId) : eq(products.sku, input.sku ?? ""),
      ),
    );
  if (!product) {
    const field = input.productId ? "productId" : "sku";
    throw new ValidationFailed([
      { field, in: "body", message: "is not a live product of this shop" },
    ]);
  }
  const locationId = input.locationId ?? (await onlyLocation(ctx, shop.id));
  const adjusted = await adjustStock(
    ctx,
    userId,
    product.id,
    {
      locationId,
      mode: "delta",
      quantity: -input.quantity,
      reason: input.note ? `offline sale: ${input.note}` : "offline sale",
    },
    idempotencyKey ? `sale:${shop.id}:${idempotencyKey}` : undefined,
  );
  const id = adjusted.movement.id;
  const [existing] = await ctx.db
    .select()
    .from(salesTransactions)
    .where(eq(salesTransactions.id, id));
  if (existing) return { sale: saleView(existing), replayed: true };
  const unitPriceMinor = input.unitPriceMinor ?? product.priceMinor;
  const row = {
    id,
    shopId: shop.id,
    productId: product.id,
    locationId,
    sku: product.sku,
    title: product.title,
    quantity: input.quantity,
    unitPriceMinor,
    totalMinor: unitPriceMinor * input.quantity,
    currency: shop.currency,
    soldAt: input.soldAt ? new Date(input.soldAt) : new Date(),
    customerEmail: input.customer?.email?.toLowerCase() ?? null,
    customerPhone: input.customer?.phone ?? null,
    customerName: input.customer?.name ?? null,
    note: input.note ?? null,
    source,
    movementId: id,
    clientKey: idempotencyKey ?? null,
    createdBy: userId,
  };
  const written = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [inserted] = await tx
      .insert(salesTransactions)
      .values(row)
      .onConflictDoNothing()
      .returning();
    if (!inserted) return null;
    await audit.record({
      action: "sale.record",
      entityType: "sales_transaction",
      entityId: id,
      newValue: saleView(inserted),
    });
    return inserted;
  });
  if (written) return { sale: saleView(written), replayed: adjusted.replayed };
  // A twin of this request (same key) wrote it between our look and our insert.
  const [twin] = await ctx.db.select().from(salesTransactions).where(eq(salesTransactions.id, id));
  if (!twin) throw new Error(`sale ${id} was neither inserted nor found`);
  return { sale: saleView(twin), replayed: true };
}

/** The shop's one live location, or a 422 asking for `locationId` when it has several. */
async function onlyLocation(ctx: ServiceContext, shopId: string): Promise<string> {
  const locations = await shopLocationsOf(ctx.db, shopId);
  const [first] = locations;
  if (locations.length === 1 && first) return first.id;
  throw new ValidationFailed([
    {
      field: "locationId",
      in: "body",
      message:
        locations.length === 0
          ? "the shop has no location to sell from"
          : "is required: the shop has more than one location",
    },
  ]);
}

const cursorShape = z.object({ soldAt: z.iso.datetime(), id: z.uuid() });

/** The shop's offline sales, newest sale first (owner, manager), with filters and a cursor. */
export async function listSales(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof saleListQuery>,
): Promise<Page<SaleView>> {
  const q = parseOr422(saleListQuery, raw, "query");
  const after = q.cursor ? decodeCursor(q.cursor, cursorShape) : null;
  if (q.cursor && !after) {
    throw new ValidationFailed([
      { field: "cursor", in: "query", message: "is not a valid cursor" },
    ]);
  }
  await requireShopPermission(ctx.db, q.shopId, userId, "sales.read");
  const s = salesTransactions;
  const like = q.customer ? containsPattern(q.customer) : null;
  const rows = await ctx.db
    .select()
    .from(s)
    .where(
      and(
        eq(s.shopId, q.shopId),
        q.productId ? eq(s.productId, q.productId) : undefined,
        q.locationId ? eq(s.locationId, q.locationId) : undefined,
        q.source ? eq(s.source, q.source) : undefined,
        like
          ? or(
              ilike(s.customerEmail, like),
              ilike(s.customerPhone, like),
              ilike(s.customerName, like),
            )
          : undefined,
        q.from ? gte(s.soldAt, new Date(q.from)) : undefined,
        q.to ? lt(s.soldAt, new Date(q.to)) : undefined,
        after
          ? sql`(${s.soldAt}, ${s.id}) < (${after.soldAt}::timestamptz, ${after.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(desc(s.soldAt), desc(s.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => ({ soldAt: r.soldAt.toISOString(), id: r.id }));
  return { items: page.items.map(saleView), nextCursor: page.nextCursor };
}
