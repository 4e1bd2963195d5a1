import { describe, expect, it } from "vitest";
import {
  cacheNamespace,
  dataKey,
  versionKey,
  versionKeysFor,
} from "../../../src/services/catalog/cache-keys.ts";

describe("catalog cache keys", () => {
  it("keeps each database's cache apart, whatever the credentials", () => {
    const dev = cacheNamespace("postgres://postgres@127.0.0.1:5432/postgres");
    const run = cacheNamespace("postgres://postgres@127.0.0.1:5432/souk_test_1_ab");
    expect(dev).not.toBe(run);
    expect(cacheNamespace("postgres://u:one@db.example:5432/souk")).toBe(
      cacheNamespace("postgres://u:two@db.example:5432/souk"),
    );
    expect(dev).toMatch(/^souk:v1:[0-9a-f]{8}$/);
  });

  it("bumps exactly the counters a change makes stale", () => {
    const ns = "souk:v1:test";
    expect(versionKeysFor(ns, { kind: "product", productId: "p1" })).toEqual([
      versionKey.product(ns, "p1"),
      versionKey.catalog(ns),
    ]);
    expect(versionKeysFor(ns, { kind: "shop", shopId: "s1" })).toEqual([
      versionKey.shops(ns),
      versionKey.catalog(ns),
    ]);
    expect(versionKeysFor(ns, { kind: "categories" })).toEqual([
      versionKey.categories(ns),
      versionKey.catalog(ns),
    ]);
  });

  it("puts every version a response depends on into its key", () => {
    const ns = "souk:v1:test";
    expect(dataKey.product(ns, "p1", 3, 7)).toBe("souk:v1:test:product:p1:p3:s7");
    expect(dataKey.productList(ns, 12, "abc")).toBe("souk:v1:test:products:c12:abc");
    expect(dataKey.categoryTree(ns, 2)).toBe("souk:v1:test:categories:t2");
  });
});
