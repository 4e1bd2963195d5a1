import { describe, expect, it } from "vitest";
import {
  formatMoney,
  isSupportedCurrency,
  minorUnits,
  SUPPORTED_CURRENCIES,
} from "../../src/lib/currencies.ts";

describe("currencies", () => {
  it("supports shekels and rupees with two minor units, as Stripe counts them", () => {
    expect(SUPPORTED_CURRENCIES).toEqual(expect.arrayContaining(["ILS", "PKR"]));
    expect(minorUnits("ILS")).toBe(2);
    expect(minorUnits("pkr")).toBe(2);
  });

  it("counts yen in whole units", () => {
    expect(minorUnits("JPY")).toBe(0);
    expect(formatMoney(1500, "jpy")).toBe("1500 JPY");
  });

  it("formats minor units without floats, negatives and small amounts included", () => {
    expect(formatMoney(2490, "ILS")).toBe("24.90 ILS");
    expect(formatMoney(5, "PKR")).toBe("0.05 PKR");
    expect(formatMoney(-305, "EUR")).toBe("-3.05 EUR");
    expect(() => formatMoney(1.5, "EUR")).toThrow(RangeError);
  });

  it("knows which codes a shop may price in", () => {
    expect(isSupportedCurrency("ILS")).toBe(true);
    expect(isSupportedCurrency("XXX")).toBe(false);
  });
});
