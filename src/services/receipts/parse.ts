/**
 * Turns a receipt's OCR text into candidate sale lines. Pure: no I/O, so it is tested on text.
 * What it understands, line by line (amounts at the end of a line, in the shop's currency):
 *   `2 x Green tea 9.00`            quantity, description, line total (unit = total / quantity)
 *   `3 x Honey jar @ 4.00 12.00`    … with the unit price printed
 *   `Green tea 2 x 4.50 9.00`       quantity and unit price after the description
 *   `Clay mug 12.50`                one unit
 * Totals, taxes, payments and change are not lines (`TOTAL` gives the receipt's total); lines
 * without an amount (the shop's name, its address) are skipped. A line names a product when one
 * of its words is a SKU of the shop, or else when it contains a product's title.
 */
import type { ReceiptLine } from "../../db/schema/receipts.ts";

export interface CatalogEntry {
  productId: string;
  sku: string;
  title: string;
}

export interface OcrLineInput {
  text: string;
  /** 0–100 */
  confidence?: number | null;
}

/**
 * A receipt line before it is stored (no id, no sale yet); `unitPriceMinor` is null when the
 * receipt gives no unit price that divides its line total evenly.
 */
export type ParsedLine = Omit<ReceiptLine, "id" | "saleId">;

export interface ParsedReceipt {
  lines: ParsedLine[];
  /** The printed total, when there is one. */
  totalMinor: number | null;
  /** The printed date and time (`YYYY-MM-DD[ HH:MM]`, read as UTC), ISO; null when none. */
  soldAt: string | null;
}

/** Words that make a line a summary or a payment, never an item. */
const SUMMARY =
  /\b(sub-?total|total|tax|vat|gst|hst|change|cash|card|visa|mastercard|amex|balance|tendered|paid|due|discount|rounding|tip)\b/i;
const GRAND_TOTAL = /^\s*(grand\s+)?total\b/i;
const AMOUNT_2 = String.raw`\d{1,3}(?:[,' ]\d{3})+[.,]\d{2}|\d+[.,]\d{2}`;
const AMOUNT_0 = String.raw`\d{1,3}(?:[,.' ]\d{3})+|\d+`;
const CURRENCY_SIGN = String.raw`(?:[$€£¥]\s?)?`;
const QTY_SIGN = String.raw`\s*[xX×*]\s*`;
const MAX_QUANTITY = 100_000;

/** An amount as printed → minor units (`1,234.50` → 123450 with 2 digits; `1,500` → 1500 with 0). */
export function amountToMinor(text: string, digits: 0 | 2): number | null {
  const cleaned = text.replace(/[$€£¥\s']/g, "");
  if (digits === 0) {
    if (!/^\d{1,3}(?:[,.]\d{3})*$|^\d+$/.test(cleaned)) return null;
    return Number(cleaned.replace(/[,.]/g, ""));
  }
  const m = /^(\d+(?:[,.]\d{3})*|\d+)[.,](\d{2})$/.exec(cleaned);
  if (!m?.[1] || !m[2]) return null;
  return Number(m[1].replace(/[,.]/g, "")) * 100 + Number(m[2]);
}

/** Letters and digits only, upper-cased, with the shapes OCR confuses made one (O/0, I/L/1). */
function skuKey(s: string): string {
  return s
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "")
    .replace(/O/g, "0")
    .replace(/[IL]/g, "1");
}

function words(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** The product a description names: a SKU among its words first, then the longest title in it. */
export function matchProduct(
  description: string,
  catalog: readonly CatalogEntry[],
): CatalogEntry | null {
  const keys = new Set(
    description
      .split(/\s+/)
      .map(skuKey)
      .filter((k) => k.length > 0),
  );
  const bySku = catalog.find((p) => keys.has(skuKey(p.sku)));
  if (bySku) return bySku;
  const text = ` ${words(description)} `;
  let best: CatalogEntry | null = null;
  for (const p of catalog) {
    const title = words(p.title);
    if (title.length === 0 || !text.includes(` ${title} `)) continue;
    if (!best || title.length > words(best.title).length) best = p;
  }
  return best;
}

function printedDate(text: string): string | null {
  const m = /\b(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}))?\b/.exec(text);
  if (!m) return null;
  const [, y, mo, d, h = "00", mi = "00"] = m;
  const at = new Date(`${y}-${mo}-${d}T${h}:${mi}:00Z`);
  // `2026-02-31` parses to March: only a date that round-trips is one.
  if (Number.isNaN(at.getTime()) || at.toISOString().slice(0, 10) !== `${y}-${mo}-${d}`)
    return null;
  return at.toISOString();
}

interface Item {
  description: string;
  quantity: number;
  unitPriceMinor: number | null;
}

function item(line: string, digits: 0 | 2): { total: number; rest: string } | null {
  const amount = digits === 2 ? AMOUNT_2 : AMOUNT_0;
  const m = new RegExp(String.raw`^(.*?)\s+${CURRENCY_SIGN}(${amount})\s*$`).exec(line);
  if (!m?.[1] || !m[2]) return null;
  const total = amountToMinor(m[2], digits);
  return total === null ? null : { total, rest: m[1].trim() };
}

function itemOf(rest: string, total: number, digits: 0 | 2): Item | null {
  const amount = digits === 2 ? AMOUNT_2 : AMOUNT_0;
  let description = rest;
  let quantity = 1;
  let unit: number | null = null;
  // `… @ 4.00`, `… 2 x 4.50` or `… 2 @ 4.50` after the description.
  const after = new RegExp(
    String.raw`^(.*?)\s+(?:(\d{1,6})(?:${QTY_SIGN}|\s*@\s*)|@\s*)${CURRENCY_SIGN}(${amount})$`,
  ).exec(description);
  if (after?.[1] && after[3]) {
    description = after[1];
    if (after[2]) quantity = Number(after[2]);
    unit = amountToMinor(after[3], digits);
  }
  // `2 x …` before it.
  const before = new RegExp(String.raw`^(\d{1,6})${QTY_SIGN}(.+)$`).exec(description);
  if (before?.[1] && before[2]) {
    quantity = Number(before[1]);
    description = before[2];
  }
  description = description.trim();
  if (description.length === 0 || quantity < 1 || quantity > MAX_QUANTITY) return null;
  if (unit === null && total % quantity === 0) unit = total / quantity;
  return { description, quantity, unitPriceMinor: unit };
}

/**
 * The candidate lines of a receipt, matched against the shop's products, with its printed
 * total and date. `digits`: decimals of the shop's currency (2, or 0 for JPY).
 */
export function parseReceipt(
  lines: readonly OcrLineInput[],
  catalog: readonly CatalogEntry[],
  digits: 0 | 2,
): ParsedReceipt {
  const out: ParsedLine[] = [];
  let totalMinor: number | null = null;
  let soldAt: string | null = null;
  for (const { text, confidence } of lines) {
    const line = text.replace(/\s+/g, " ").trim();
    soldAt ??= printedDate(line);
    const found = item(line, digits);
    if (!found) continue;
    if (SUMMARY.test(found.rest)) {
      if (GRAND_TOTAL.test(found.rest)) totalMinor = found.total;
      continue;
    }
    const parsed = itemOf(found.rest, found.total, digits);
    if (!parsed) continue;
    const product = matchProduct(parsed.description, catalog);
    out.push({
      ...parsed,
      productId: product?.productId ?? null,
      sku: product?.sku ?? null,
      confidence: confidence === undefined || confidence === null ? null : Math.round(confidence),
    });
  }
  return { lines: out, totalMinor, soldAt };
}
