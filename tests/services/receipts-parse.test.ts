import { describe, expect, it } from "vitest";
import {
  amountToMinor,
  type CatalogEntry,
  matchProduct,
  parseReceipt,
} from "../../src/services/receipts/parse.ts";

const TEA = { productId: "tea", sku: "TEA-100", title: "Green tea" };
const MUG = { productId: "mug", sku: "MUG-200", title: "Clay mug" };
const HONEY = { productId: "honey", sku: "HNY-1", title: "Honey jar" };
const CATALOG: CatalogEntry[] = [TEA, MUG, HONEY];

/** OCR lines from text, one per line, all at confidence 90. */
function ocr(text: string) {
  return text.split("\n").map((t) => ({ text: t, confidence: 90 }));
}

describe("parseReceipt", () => {
  it("reads quantity, description and line total, with the unit price as total / quantity", () => {
    const { lines } = parseReceipt(ocr("2 x Green tea 9.00"), CATALOG, 2);
    expect(lines).toEqual([
      {
        description: "Green tea",
        quantity: 2,
        unitPriceMinor: 450,
        productId: "tea",
        sku: "TEA-100",
        confidence: 90,
      },
    ]);
  });

  it("takes a printed unit price over the division of the line total", () => {
    const [line] = parseReceipt(ocr("3 x Honey jar @ 4.00 12.00"), CATALOG, 2).lines;
    expect(line).toMatchObject({ description: "Honey jar", quantity: 3, unitPriceMinor: 400 });
  });

  it("reads a quantity and unit price printed after the description", () => {
    const [line] = parseReceipt(ocr("Clay mug 2 x 12.50 25.00"), CATALOG, 2).lines;
    expect(line).toMatchObject({ description: "Clay mug", quantity: 2, unitPriceMinor: 1250 });
  });

  it("reads a line without a quantity as one unit", () => {
    const [line] = parseReceipt(ocr("Clay mug $12.50"), CATALOG, 2).lines;
    expect(line).toMatchObject({ quantity: 1, unitPriceMinor: 1250, productId: "mug" });
  });

  it("leaves the unit price open when the line total does not divide by the quantity", () => {
    const [line] = parseReceipt(ocr("3 x Green tea 10.00"), CATALOG, 2).lines;
    expect(line).toMatchObject({ quantity: 3, unitPriceMinor: null });
  });

  it("keeps the printed TOTAL and skips subtotal, tax, payment and lines without an amount", () => {
    const parsed = parseReceipt(
      ocr(
        [
          "SOUK CORNER SHOP",
          "12 Market Street",
          "1 x Clay mug 12.50",
          "SUBTOTAL 12.50",
          "VAT 20% 2.08",
          "TOTAL 12.50",
          "CARD 12.50",
          "CHANGE 0.00",
          "THANK YOU",
        ].join("\n"),
      ),
      CATALOG,
      2,
    );
    expect(parsed.lines.map((l) => l.description)).toEqual(["Clay mug"]);
    expect(parsed.totalMinor).toBe(1250);
  });

  it("reads the printed date and time as the sale's time, and ignores an impossible date", () => {
    expect(parseReceipt(ocr("2026-11-30 14:05"), CATALOG, 2).soldAt).toBe(
      "2026-11-30T14:05:00.000Z",
    );
    expect(parseReceipt(ocr("2026-02-31"), CATALOG, 2).soldAt).toBeNull();
  });

  it("reads whole amounts for a currency without decimals", () => {
    const parsed = parseReceipt(ocr("2 x Green tea 1,500\nTOTAL 1,500"), CATALOG, 0);
    expect(parsed.lines[0]).toMatchObject({ quantity: 2, unitPriceMinor: 750 });
    expect(parsed.totalMinor).toBe(1500);
  });

  it("leaves a line that names no product of the shop unmatched", () => {
    const [line] = parseReceipt(ocr("1 x Paper bag 0.20"), CATALOG, 2).lines;
    expect(line).toMatchObject({ description: "Paper bag", productId: null, sku: null });
  });
});

describe("matchProduct", () => {
  it("matches a SKU among the words, whatever its case and punctuation", () => {
    expect(matchProduct("tea100 something", CATALOG)).toBe(TEA);
  });

  it("matches a SKU that OCR read with O for 0 and l for 1", () => {
    expect(matchProduct("TEA-lOO", CATALOG)).toBe(TEA);
  });

  it("prefers a SKU over a title the description also contains", () => {
    expect(matchProduct("MUG-200 Green tea", CATALOG)).toBe(MUG);
  });

  it("matches the longest title the description contains, on whole words", () => {
    const catalog = [...CATALOG, { productId: "big", sku: "BIG-1", title: "Big clay mug" }];
    expect(matchProduct("Big Clay Mug blue", catalog)?.productId).toBe("big");
    expect(matchProduct("Clay mugs", CATALOG)).toBeNull();
  });
});

describe("amountToMinor", () => {
  it("reads thousands separators and a comma as the decimal mark", () => {
    expect(amountToMinor("1,234.50", 2)).toBe(123450);
    expect(amountToMinor("12,50", 2)).toBe(1250);
    expect(amountToMinor("12.5", 2)).toBeNull();
  });
});
