import { env } from "cloudflare:workers";
import { Redis } from "@upstash/redis/cloudflare";
import { expect } from "vitest";
import { categories } from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import {
  bumpCatalogVersion,
  type CatalogCache,
  cacheNamespace,
  catalogCache,
} from "../../src/services/catalog/cache-keys.ts";
import { withDb } from "./db.ts";
import { api } from "./http.ts";
import { type ShopSeed, seedShop, type TestShop } from "./shops.ts";
import type { TestUser } from "./users.ts";

export const hasRedis = Boolean(env.UPSTASH_REDIS_REST_URL && env.UPSTASH_REDIS_REST_TOKEN);

/** The run's Redis, as the Worker sees it (through the Upstash REST bridge). */
export function testRedis(): Redis {
  return new Redis({
    url: env.UPSTASH_REDIS_REST_URL ?? "",
    token: env.UPSTASH_REDIS_REST_TOKEN ?? "",
    retry: { retries: 0 },
    enableTelemetry: false,
  });
}

/** This run's catalog cache: the run's Redis, under the run's database namespace. */
export function testCache(redis: Redis = testRedis()): CatalogCache {
  return catalogCache(redis, env.DATABASE_URL ?? "");
}

/** The run's cache namespace (keys are per database). */
export const ns = cacheNamespace(env.DATABASE_URL ?? "");

/** A Redis that does not answer: nothing listens on port 9. */
export function deadRedis(): Redis {
  return new Redis({
    url: "http://127.0.0.1:9",
    token: "t",
    retry: { retries: 0 },
    enableTelemetry: false,
  });
}

/** A lowercase word no other test (or run) uses, so full-text assertions see only our rows. */
export function uniqueWord(): string {
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return `zq${Array.from(bytes, (b) => letters[b % 26]).join("")}`;
}

/**
 * A category straight in Postgres (admin CRUD is tested through the API on its own), with the
 * cache bump the categories service would make.
 */
export async function seedCategory(parentId: string | null = null): Promise<{
  id: string;
  slug: string;
}> {
  const id = uuidv7();
  const slug = `cat-${id.slice(-12)}`;
  await withDb((db) =>
    db.insert(categories).values({ id, slug, name: `Category ${slug}`, parentId }),
  );
  if (hasRedis) await bumpCatalogVersion(testCache(), { kind: "categories" });
  return { id, slug };
}

export interface ProductBody {
  shopId: string;
  categoryId: string;
  title?: string;
  description?: string;
  priceMinor?: number;
  sku?: string;
  listingType?: "fixed" | "auction";
  status?: "draft" | "published";
  imageUrls?: string[];
  attributes?: Record<string, string | number | boolean>;
}

export interface SellerProduct {
  id: string;
  shopId: string;
  title: string;
  description: string;
  priceMinor: number;
  currency: string;
  sku: string;
  status: "draft" | "published";
  listingType: "fixed" | "auction";
  publishedAt: string | null;
}

/** Creates a product through the seller API; published unless the body says otherwise. */
export async function createProduct(token: string, body: ProductBody): Promise<SellerProduct> {
  const res = await api<SellerProduct>("POST", "/v1/seller/products", {
    token,
    body: {
      title: "Untitled",
      priceMinor: 1000,
      sku: `SKU-${crypto.randomUUID().slice(0, 8)}`,
      listingType: "fixed",
      status: "published",
      ...body,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ListedProduct {
  id: string;
  title: string;
  priceMinor: number;
  currency: string;
  listingType: string;
  categoryId: string;
  shop: { id: string; name: string; slug: string; country: string };
}

/** GET /v1/products with these query parameters. */
export async function listProducts(params: Record<string, string | number | undefined>) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.set(k, String(v));
  return api<Page<ListedProduct>>("GET", `/v1/products?${qs}`);
}

/**
 * A shop buyers can see: approved with its email verified, payouts on. (seedShop() alone leaves
 * the email unverified unless `status: "approved"` is passed explicitly.)
 */
export function seedVisibleShop(seed: ShopSeed = {}, owner?: TestUser): Promise<TestShop> {
  return seedShop({ status: "approved", emailVerified: true, ...seed }, owner);
}
