import { describe, expect, it } from "vitest";
import {
  deliveryFeeMinor,
  deliveryRules,
  platformFeeMinor,
} from "../../../src/services/checkout/pricing.ts";

describe("checkout pricing", () => {
  it("rounds the platform fee half up in minor units", () => {
    expect(platformFeeMinor(1025, 200)).toBe(21); // 20.5
    expect(platformFeeMinor(1024, 200)).toBe(20); // 20.48
    expect(platformFeeMinor(1075, 200)).toBe(22); // 21.5
    expect(platformFeeMinor(24, 200)).toBe(0); // 0.48
    expect(platformFeeMinor(25, 200)).toBe(1); // 0.5
    expect(platformFeeMinor(0, 200)).toBe(0);
    expect(platformFeeMinor(999, 0)).toBe(0);
    expect(platformFeeMinor(12345, 10_000)).toBe(12345);
    expect(platformFeeMinor(2_147_483_647, 200)).toBe(42_949_673); // 42 949 672.94
  });

  it("refuses amounts whose product would lose integer precision", () => {
    expect(() => platformFeeMinor(Number.MAX_SAFE_INTEGER, 200)).toThrow(RangeError);
    expect(() => platformFeeMinor(-1, 200)).toThrow(RangeError);
  });

  it("makes delivery free at the minimum, charges under it, never for pickup", () => {
    const platform = { DELIVERY_FEE_MINOR: 499, FREE_DELIVERY_MIN_MINOR: 5000 };
    const rules = deliveryRules({ deliveryFeeMinor: null, freeDeliveryMinMinor: null }, platform);
    expect(rules).toEqual({ feeMinor: 499, freeMinMinor: 5000 });
    expect(deliveryFeeMinor("delivery", 4999, rules)).toBe(499);
    expect(deliveryFeeMinor("delivery", 5000, rules)).toBe(0);
    expect(deliveryFeeMinor("pickup", 1, rules)).toBe(0);
    const shop = deliveryRules({ deliveryFeeMinor: 0, freeDeliveryMinMinor: 2000 }, platform);
    expect(shop).toEqual({ feeMinor: 0, freeMinMinor: 2000 });
    expect(deliveryFeeMinor("delivery", 100, shop)).toBe(0);
  });
});
