import { describe, expect, it } from "vitest";
import { encodeCursor } from "../../../src/lib/pagination.ts";
import { normalizeListQuery } from "../../../src/services/catalog/search.ts";
import { ValidationFailed } from "../../../src/services/errors.ts";

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationFailed) return err.errors[0]?.field;
    throw err;
  }
  return undefined;
};

describe("normalizeListQuery", () => {
  it("defaults to relevance with q and newest without", () => {
    expect(normalizeListQuery({ q: "lamp", limit: 20 }).sort).toBe("relevance");
    expect(normalizeListQuery({ limit: 20 }).sort).toBe("newest");
    expect(normalizeListQuery({ q: "   ", limit: 20 })).toMatchObject({ q: null, sort: "newest" });
  });

  it("normalizes the currency and blank filters", () => {
    expect(normalizeListQuery({ currency: "eur", shop: " ", limit: 5 })).toMatchObject({
      currency: "EUR",
      shop: null,
    });
  });

  it("refuses what no single field can say is wrong", () => {
    expect(fieldOf(() => normalizeListQuery({ sort: "relevance", limit: 20 }))).toBe("sort");
    expect(fieldOf(() => normalizeListQuery({ minPrice: 9, maxPrice: 1, limit: 20 }))).toBe(
      "maxPrice",
    );
    expect(fieldOf(() => normalizeListQuery({ cursor: "garbage", limit: 20 }))).toBe("cursor");
    const injected = encodeCursor({ s: "relevance", k: "1); drop table products; --", id: "x" });
    expect(fieldOf(() => normalizeListQuery({ q: "a", cursor: injected, limit: 20 }))).toBe(
      "cursor",
    );
  });

  it("accepts its own cursors", () => {
    const id = "0192f0c1-7a4e-7c39-9a51-0c3c1f1e2a7b";
    const rel = encodeCursor({ s: "relevance", k: "0.0607927", id });
    expect(normalizeListQuery({ q: "a", cursor: rel, limit: 20 }).after).toEqual({
      s: "relevance",
      k: "0.0607927",
      id,
    });
    const newest = encodeCursor({ s: "newest", k: "2026-11-22T00:00:00.123456Z", id });
    expect(normalizeListQuery({ cursor: newest, limit: 20 }).after?.s).toBe("newest");
    const price = encodeCursor({ s: "price_asc", k: 1500, id });
    expect(normalizeListQuery({ sort: "price_asc", cursor: price, limit: 20 }).after?.k).toBe(1500);
  });
});
