/**
 * An inventory upload's rows: `sku,location,quantity[,title,price,currency,category,threshold]`.
 * A SKU the shop does not have yet becomes a draft product (title, price and category then
 * required); a known one gets its title and price changed when the row differs; then the count
 * at the location is set (and the threshold, when given) through the product's object. Each
 * step is idempotent, so a row applied again (redelivery, retry) changes nothing more: the
 * product exists by then and the count is keyed by upload and row.
 */
import { and, eq, isNull, or } from "drizzle-orm";
import { z } from "zod";
import { MAX_QUANTITY } from "../../../durable-objects/product-stock/types.ts";
import { categories, products } from "../../db/schema/catalog.ts";
import {
  createProduct,
  createProductInput,
  updateProduct,
  updateProductInput,
} from "../catalog/products.ts";
import type { ServiceContext } from "../context.ts";
import { adjustStock } from "../inventory/stock.ts";
import { type CsvRow, clip, RowCheck } from "./csv.ts";
import { failed, type RowOutcome, type RunScope, refusalOf } from "./outcome.ts";
import { rowKey } from "./transactions.ts";

/** The catalog's and the stock service's fields and the CSV columns they come from. */
const COLUMNS: Record<string, string> = {
  sku: "sku",
  title: "title",
  priceMinor: "price",
  categoryId: "category",
  locationId: "location",
  quantity: "quantity",
  threshold: "threshold",
};

/** Applies one inventory row of the run (the categories it names are looked up once). */
export function stockRows(
  ctx: ServiceContext,
  { upload, currency, digits, locations }: RunScope,
): (csv: CsvRow) => Promise<RowOutcome> {
  const categoryIds = new Map<string, string | null>();
  const categoryOf = async (ref: string) => {
    if (!categoryIds.has(ref)) {
      const [found] = await ctx.db
        .select({ id: categories.id })
        .from(categories)
        .where(
          and(
            isNull(categories.deletedAt),
            z.uuid().safeParse(ref).success
              ? or(eq(categories.id, ref), eq(categories.slug, ref))
              : eq(categories.slug, ref),
          ),
        );
      categoryIds.set(ref, found?.id ?? null);
    }
    return categoryIds.get(ref) ?? null;
  };

  return async (csv) => {
    const check = new RowCheck(csv);
    const sku = check.required("sku", 64);
    const code = check.required("location", 64);
    const locationId =
      code === null
        ? null
        : (locations.get(code) ??
          check.fail("location", `no location of this shop has code ${clip(code)}`));
    const quantity = check.wholeNumber("quantity", 0, MAX_QUANTITY);
    const threshold = check.optional("threshold", (c) => check.wholeNumber(c, 0, MAX_QUANTITY));
    const title = check.optional("title", (c) => check.required(c));
    const priceMinor = check.optional("price", (c) => check.amount(c, digits));
    const given = csv.cell("currency").toUpperCase();
    if (given !== "" && given !== currency) {
      check.fail("currency", `must be the shop's currency ${currency} (got ${clip(given)})`);
    }
    if (sku === null || locationId === null || quantity === null || check.errors.length > 0) {
      return failed(check.errors);
    }
    try {
      const [known] = await ctx.db
        .select({ id: products.id, title: products.title, priceMinor: products.priceMinor })
        .from(products)
        .where(
          and(
            eq(products.shopId, upload.shopId),
            eq(products.sku, sku),
            isNull(products.deletedAt),
          ),
        );
      let productId: string;
      if (known) {
        const changes = {
          ...(title && title !== known.title ? { title } : {}),
          ...(priceMinor != null && priceMinor !== known.priceMinor ? { priceMinor } : {}),
        };
        const parsed = updateProductInput.safeParse(changes);
        if (!parsed.success) return failed(issues(parsed.error, csv.row));
        if (Object.keys(changes).length > 0) {
          await updateProduct(ctx, upload.createdBy, known.id, parsed.data);
        }
        productId = known.id;
      } else {
        const ref = csv.cell("category");
        for (const column of ["title", "price", "category"]) {
          if (csv.cell(column) === "") check.fail(column, "is required for a new SKU");
        }
        const categoryId = ref === "" ? null : await categoryOf(ref);
        if (ref !== "" && !categoryId) {
          check.fail("category", `no category has slug or id ${clip(ref)}`);
        }
        if (check.errors.length > 0) return failed(check.errors);
        const parsed = createProductInput.safeParse({
          shopId: upload.shopId,
          sku,
          title,
          priceMinor,
          categoryId,
          listingType: "fixed",
        });
        if (!parsed.success) return failed(issues(parsed.error, csv.row));
        productId = (await createProduct(ctx, upload.createdBy, parsed.data)).id;
      }
      await adjustStock(
        ctx,
        upload.createdBy,
        productId,
        {
          locationId,
          mode: "set",
          quantity,
          reason: "inventory upload",
          ...(threshold == null ? {} : { threshold }),
        },
        rowKey(upload, csv.row),
      );
      return { status: "succeeded", resultId: productId };
    } catch (err) {
      const errors = refusalOf(err, csv.row, COLUMNS, { INSUFFICIENT_STOCK: "quantity" });
      if (!errors) throw err;
      return failed(errors);
    }
  };
}

function issues(error: z.ZodError, row: number) {
  return error.issues.map((i) => ({
    row,
    field: COLUMNS[String(i.path[0])] ?? null,
    message: i.message,
  }));
}
