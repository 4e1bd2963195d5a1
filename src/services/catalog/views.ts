import type { ListingType, Product, ProductStatus } from "../../db/schema/catalog.ts";
import type { Availability } from "../inventory/availability.ts";
import type { ProductFulfilment } from "../shops/branch-availability.ts";

export type Attributes = Record<string, string | number | boolean>;

/** The seller's view: everything, drafts included. */
export interface SellerProductView {
  id: string;
  shopId: string;
  categoryId: string;
  title: string;
  description: string;
  priceMinor: number;
  currency: string;
  sku: string;
  imageUrls: string[];
  attributes: Attributes;
  listingType: ListingType;
  maxPerBuyer: number | null;
  status: ProductStatus;
  publishedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ShopSummary {
  id: string;
  name: string;
  slug: string;
  country: string;
}

/** A row of the public list: enough to render a result card. */
export interface ProductSummary {
  id: string;
  title: string;
  priceMinor: number;
  currency: string;
  listingType: ListingType;
  categoryId: string;
  imageUrls: string[];
  publishedAt: string;
  shop: ShopSummary;
}

/** The public detail as cached: everything but availability, which moves with every sale. */
export interface PublicProductCore extends ProductSummary {
  description: string;
  attributes: Attributes;
}

/** The public detail of a published product of a visible shop. */
export interface PublicProductView extends PublicProductCore {
  /** Units available over every location, from the product's stock object (inventory). */
  availability: Availability;
  /** The same per location: delivery from the warehouse, pickup per branch. */
  fulfilment: ProductFulfilment;
}

/** The columns every view reads (never the tsvector). */
export type ProductRow = Omit<Product, "search">;

export function sellerView(p: ProductRow): SellerProductView {
  return {
    id: p.id,
    shopId: p.shopId,
    categoryId: p.categoryId,
    title: p.title,
    description: p.description,
    priceMinor: p.priceMinor,
    currency: p.currency,
    sku: p.sku,
    imageUrls: p.imageUrls,
    attributes: p.attributes,
    listingType: p.listingType,
    maxPerBuyer: p.maxPerBuyer,
    status: p.status,
    publishedAt: p.publishedAt?.toISOString() ?? null,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}
