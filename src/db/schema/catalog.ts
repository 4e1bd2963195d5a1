import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { shops } from "./shops.ts";

export const listingType = pgEnum("listing_type", ["fixed", "auction"]);
export const productStatus = pgEnum("product_status", ["draft", "published"]);

/** Postgres `tsvector`; only ever written by the generated column below. */
const tsvector = customType<{ data: string }>({
  dataType() {
    return "tsvector";
  },
});

/**
 * The text search configuration of the catalog. The column and every query must use the same
 * one, or matches silently disappear; `english` stems ("lamps" finds "lamp").
 */
export const SEARCH_CONFIG = "english";

/** A tree through `parent_id`; soft-deleted, so the slug is unique among live categories. */
export const categories = pgTable(
  "categories",
  {
    id: uuid("id").primaryKey(),
    parentId: uuid("parent_id").references((): AnyPgColumn => categories.id),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    /** Order among siblings, ascending. */
    position: integer("position").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("categories_slug_live_key").on(t.slug).where(sql`${t.deletedAt} is null`),
    index("categories_parent_idx").on(t.parentId),
  ],
);

export const products = pgTable(
  "products",
  {
    id: uuid("id").primaryKey(),
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    categoryId: uuid("category_id")
      .notNull()
      .references(() => categories.id),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    /** Minor units of `currency`, which is always the shop's currency. */
    priceMinor: integer("price_minor").notNull(),
    currency: text("currency").notNull(),
    sku: text("sku").notNull(),
    imageUrls: text("image_urls").array().notNull().default(sql`'{}'::text[]`),
    /** A flat record of string, number or boolean values. */
    attributes: jsonb("attributes").$type<Record<string, string | number | boolean>>().notNull(),
    listingType: listingType("listing_type").notNull(),
    /**
     * The most units one buyer may hold over all their unpaid checkouts (the seller's setting);
     * null: the platform default (services/checkout/limits.ts).
     */
    maxPerBuyer: integer("max_per_buyer"),
    status: productStatus("status").notNull().default("draft"),
    /** Set on each publish; the "newest" sort orders by it. Null while never published. */
    publishedAt: timestamp("published_at", { withTimezone: true }),
    /** Title weighs A, description B; kept by Postgres, never written by the app. */
    search: tsvector("search")
      .notNull()
      .generatedAlwaysAs(
        sql.raw(
          `setweight(to_tsvector('${SEARCH_CONFIG}', coalesce("title", '')), 'A') || ` +
            `setweight(to_tsvector('${SEARCH_CONFIG}', coalesce("description", '')), 'B')`,
        ),
      ),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("products_shop_sku_live_key")
      .on(t.shopId, t.sku)
      .where(sql`${t.deletedAt} is null`),
    index("products_search_idx").using("gin", t.search),
    index("products_shop_idx").on(t.shopId, t.id),
    index("products_category_idx").on(t.categoryId),
    // The public list's sorts, restricted to what buyers can see.
    index("products_published_newest_idx")
      .on(t.publishedAt.desc(), t.id.desc())
      .where(sql`${t.status} = 'published' and ${t.deletedAt} is null`),
    index("products_published_price_idx")
      .on(t.priceMinor, t.id)
      .where(sql`${t.status} = 'published' and ${t.deletedAt} is null`),
    check("products_price_positive", sql`${t.priceMinor} > 0`),
    check("products_max_per_buyer_positive", sql`${t.maxPerBuyer} > 0`),
    check(
      "products_published_has_time",
      sql`${t.status} = 'draft' or ${t.publishedAt} is not null`,
    ),
  ],
);

/**
 * A shop's tax rate for one category (basis points), overriding the shop's default rate for the
 * products filed directly in that category (src/lib/tax.ts). Removed by deleting the row.
 */
export const shopTaxRates = pgTable(
  "shop_tax_rates",
  {
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    categoryId: uuid("category_id")
      .notNull()
      .references(() => categories.id),
    rateBps: integer("rate_bps").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.categoryId] }),
    check("shop_tax_rates_rate_check", sql`${t.rateBps} between 0 and 10000`),
  ],
);

export type Category = typeof categories.$inferSelect;
export type Product = typeof products.$inferSelect;
export type ListingType = (typeof listingType.enumValues)[number];
export type ProductStatus = (typeof productStatus.enumValues)[number];
