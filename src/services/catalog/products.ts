import { and, desc, eq, getTableColumns, isNull, lt } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import type { Queryable } from "../../db/client.ts";
import { listingType, productStatus, products } from "../../db/schema/catalog.ts";
import type { Shop } from "../../db/schema/shops.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { decodeCursor, type Page, toPage } from "../../lib/pagination.ts";
import { publicHttpsUrl } from "../../lib/public-url.ts";
import { text } from "../../lib/text.ts";
import { MAX_LINE_QUANTITY } from "../cart/lines.ts";
import type { ServiceContext } from "../context.ts";
import { isUniqueViolation } from "../context.ts";
import { Conflict, DomainError, NotFound, ValidationFailed } from "../errors.ts";
import { requireShopPermission, type ShopPermission } from "../shops/access.ts";
import { bumpCatalogVersion } from "./cache-keys.ts";
import { requireLiveCategory } from "./categories.ts";
import { type ProductRow, type SellerProductView, sellerView } from "./views.ts";

/** Every product column except the tsvector, which no response needs. */
const { search: _search, ...productColumns } = getTableColumns(products);

export { productColumns };

export const MAX_IMAGES = 10;
export const MAX_ATTRIBUTES = 50;
export const MAX_PRICE_MINOR = 1_000_000_000;

const attributeValue = z.union([text().max(500), z.number().finite(), z.boolean()]);

const productFields = z.object({
  title: text().trim().min(1).max(200),
  description: text().trim().max(5000),
  /** Minor units of the shop's currency (cents for EUR, yen for JPY). */
  priceMinor: z.number().int().positive().max(MAX_PRICE_MINOR),
  categoryId: z.uuid(),
  sku: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, "letters, digits and . _ / - only"),
  imageUrls: z.array(publicHttpsUrl).max(MAX_IMAGES),
  attributes: z
    .record(text().trim().min(1).max(64), attributeValue)
    .refine((a) => Object.keys(a).length <= MAX_ATTRIBUTES, {
      message: `at most ${MAX_ATTRIBUTES} attributes`,
    })
    // What the refinement and the trimmed key schema check, said where the document shows it.
    .meta({
      maxProperties: MAX_ATTRIBUTES,
      propertyNames: { minLength: 1, maxLength: 64, pattern: "\\S" },
    }),
  listingType: z.enum(listingType.enumValues),
  /** Units one buyer may hold over all unpaid checkouts; null: the platform default. */
  maxPerBuyer: z.number().int().min(1).max(MAX_LINE_QUANTITY).nullable(),
  status: z.enum(productStatus.enumValues),
});

// Defaults live only on create: a PATCH that omits a field must leave it alone.
export const createProductInput = productFields.extend({
  shopId: z.uuid(),
  description: productFields.shape.description.default(""),
  imageUrls: productFields.shape.imageUrls.default([]),
  attributes: productFields.shape.attributes.default({}),
  status: productFields.shape.status.default("draft"),
  maxPerBuyer: productFields.shape.maxPerBuyer.default(null),
});
export const updateProductInput = productFields.partial();

export const sellerListQuery = z.object({
  shopId: z.uuid(),
  status: z.enum(productStatus.enumValues).optional(),
  limit: z.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(512).optional(),
});

/** Catalog changes are for owners and managers; staff may read (they file stock requests). */
const WRITE: ShopPermission = "catalog.write";
const READ: ShopPermission = "catalog.read";

function cannotPublish(shop: Shop): Conflict {
  return new Conflict(
    `Shop ${shop.id} cannot publish products until its payouts are enabled ` +
      `(POST /v1/shops/${shop.id}/payouts/onboard).`,
    { reason: "payouts_not_enabled" },
  );
}

function skuTaken(sku: string): Conflict {
  return new Conflict(`Another live product of this shop already has SKU "${sku}".`, {
    field: "sku",
  });
}

/**
 * The product's shop checked for `permission`. A stranger learns nothing: the product itself
 * answers NOT_FOUND, not its shop.
 */
async function requireProductPermission(
  tx: Queryable,
  product: ProductRow,
  userId: string,
  permission: ShopPermission,
): Promise<Shop> {
  try {
    return (await requireShopPermission(tx, product.shopId, userId, permission)).shop;
  } catch (err) {
    if (err instanceof DomainError && err.code === "NOT_FOUND") {
      throw new NotFound("product", product.id);
    }
    throw err;
  }
}

const liveProduct = (id: string) => and(eq(products.id, id), isNull(products.deletedAt));

/** Buyers only ever see published products; changes to drafts need no invalidation. */
async function invalidate(ctx: ServiceContext, id: string, ...wasOrIsPublic: boolean[]) {
  if (wasOrIsPublic.some(Boolean)) {
    await bumpCatalogVersion(ctx.cache, { kind: "product", productId: id });
  }
}

/**
 * Lists a shop's live products, drafts included, newest first. Owner, manager and staff.
 */
export async function listShopProducts(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof sellerListQuery>,
): Promise<Page<SellerProductView>> {
  const q = sellerListQuery.parse(raw);
  const after = q.cursor ? decodeCursor(q.cursor, z.object({ id: z.uuid() })) : null;
  if (q.cursor && !after) {
    throw new ValidationFailed([
      { field: "cursor", in: "query", message: "is not a valid cursor" },
    ]);
  }
  await requireShopPermission(ctx.db, q.shopId, userId, READ);
  const rows = await ctx.db
    .select(productColumns)
    .from(products)
    .where(
      and(
        eq(products.shopId, q.shopId),
        isNull(products.deletedAt),
        q.status ? eq(products.status, q.status) : undefined,
        after ? lt(products.id, after.id) : undefined,
      ),
    )
    .orderBy(desc(products.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (p) => ({ id: p.id }));
  return { items: page.items.map(sellerView), nextCursor: page.nextCursor };
}

/** One live product, for a member of its shop (staff included). */
export async function getShopProduct(
  ctx: ServiceContext,
  userId: string,
  id: string,
): Promise<SellerProductView> {
  const [row] = await ctx.db.select(productColumns).from(products).where(liveProduct(id));
  if (!row) throw new NotFound("product", id);
  await requireProductPermission(ctx.db, row, userId, READ);
  return sellerView(row);
}

/**
 * Creates a product in the shop's currency (never the client's). Publishing at once needs the
 * shop's payouts enabled, like any publish.
 */
export async function createProduct(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof createProductInput>,
): Promise<SellerProductView> {
  const input = createProductInput.parse(raw);
  let created: SellerProductView;
  try {
    created = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      const { shop } = await requireShopPermission(tx, input.shopId, userId, WRITE);
      await requireLiveCategory(tx, input.categoryId, "categoryId");
      const publishing = input.status === "published";
      if (publishing && !shop.payoutsEnabled) throw cannotPublish(shop);
      const now = new Date();
      const [row] = await tx
        .insert(products)
        .values({
          id: uuidv7(),
          shopId: shop.id,
          categoryId: input.categoryId,
          title: input.title,
          description: input.description,
          priceMinor: input.priceMinor,
          currency: shop.currency,
          sku: input.sku,
          imageUrls: input.imageUrls,
          attributes: input.attributes,
          listingType: input.listingType,
          maxPerBuyer: input.maxPerBuyer,
          status: input.status,
          publishedAt: publishing ? now : null,
          createdAt: now,
          updatedAt: now,
        })
        .returning(productColumns);
      if (!row) throw new Error("insert returned no product");
      await audit.record({
        action: "product.created",
        entityType: "product",
        entityId: row.id,
        newValue: sellerView(row),
      });
      return sellerView(row);
    });
  } catch (err) {
    if (isUniqueViolation(err, "products_shop_sku_live_key")) throw skuTaken(input.sku);
    throw err;
  }
  await invalidate(ctx, created.id, created.status === "published");
  return created;
}

/**
 * Changes a product; `status` publishes or unpublishes it. The listing type is fixed once the
 * product is published (bids or orders may already refer to it).
 */
export async function updateProduct(
  ctx: ServiceContext,
  userId: string,
  id: string,
  raw: z.input<typeof updateProductInput>,
): Promise<SellerProductView> {
  const input = updateProductInput.parse(raw);
  let result: { before: SellerProductView; after: SellerProductView };
  try {
    result = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      const [before] = await tx
        .select(productColumns)
        .from(products)
        .where(liveProduct(id))
        .for("update");
      if (!before) throw new NotFound("product", id);
      const shop = await requireProductPermission(tx, before, userId, WRITE);
      if (input.categoryId && input.categoryId !== before.categoryId) {
        await requireLiveCategory(tx, input.categoryId, "categoryId");
      }
      if (
        input.listingType &&
        input.listingType !== before.listingType &&
        before.status === "published"
      ) {
        throw new Conflict("The listing type of a published product cannot change.", {
          field: "listingType",
        });
      }
      const publishing = input.status === "published" && before.status !== "published";
      const unpublishing = input.status === "draft" && before.status === "published";
      if (publishing && !shop.payoutsEnabled) throw cannotPublish(shop);
      const now = new Date();
      const [after] = await tx
        .update(products)
        .set({ ...input, ...(publishing ? { publishedAt: now } : {}), updatedAt: now })
        .where(eq(products.id, id))
        .returning(productColumns);
      if (!after) throw new NotFound("product", id);
      await audit.record({
        action: publishing
          ? "product.published"
          : unpublishing
            ? "product.unpublished"
            : "product.updated",
        entityType: "product",
        entityId: id,
        oldValue: sellerView(before),
        newValue: sellerView(after),
      });
      return { before: sellerView(before), after: sellerView(after) };
    });
  } catch (err) {
    if (input.sku && isUniqueViolation(err, "products_shop_sku_live_key")) {
      throw skuTaken(input.sku);
    }
    throw err;
  }
  await invalidate(
    ctx,
    id,
    result.before.status === "published",
    result.after.status === "published",
  );
  return result.after;
}

/** Publishes (`published`) or unpublishes (`draft`) a product. */
export async function setProductStatus(
  ctx: ServiceContext,
  userId: string,
  id: string,
  status: "draft" | "published",
): Promise<SellerProductView> {
  return updateProduct(ctx, userId, id, { status });
}

/** Soft-deletes a product; its SKU becomes free again. A second delete answers NOT_FOUND. */
export async function deleteProduct(
  ctx: ServiceContext,
  userId: string,
  id: string,
): Promise<void> {
  const wasPublic = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [before] = await tx
      .select(productColumns)
      .from(products)
      .where(liveProduct(id))
      .for("update");
    if (!before) throw new NotFound("product", id);
    await requireProductPermission(tx, before, userId, WRITE);
    const now = new Date();
    await tx.update(products).set({ deletedAt: now, updatedAt: now }).where(eq(products.id, id));
    await audit.record({
      action: "product.deleted",
      entityType: "product",
      entityId: id,
      oldValue: sellerView(before),
    });
    return before.status === "published";
  });
  await invalidate(ctx, id, wasPublic);
}
