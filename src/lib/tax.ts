/**
 * Taxes, VAT-style, in integers of minor units only. Pure: checkout (preview and confirm), the
 * auction room's orders, refunds and the tax report all compute with these functions, so one
 * rule holds everywhere. It lives in lib (not services) because the auction room, below the
 * services, makes orders too.
 *
 * A shop enters its prices (and its delivery fee) either tax-inclusive or tax-exclusive, with a
 * default rate and optional rates per category, in basis points (1700 = 17%). Tax is computed
 * per line (one product × quantity, or the delivery fee) and rounded per line, half up (a tax of
 * exactly half a minor unit rounds up, as the platform fee does):
 *
 *   exclusive   tax = round_half_up(amount × rate / 10 000)            added to the total
 *   inclusive   tax = round_half_up(amount × rate / (10 000 + rate))   already in the price
 *   base (net taxable amount) = amount for exclusive, amount − tax for inclusive
 *
 * So in inclusive mode the buyer pays exactly the listed prices; in exclusive mode the buyer
 * pays the listed prices plus the sum of the per-line taxes. The delivery fee is a line of its
 * own taxed at the shop's default rate in the shop's mode.
 */

/** 100%: the highest rate a shop may set. */
export const MAX_TAX_RATE_BPS = 10_000;
const BPS = 10_000;

/** `n / d` rounded half up, for integers n ≥ 0 and d > 0 (exact: no float division). */
function divHalfUp(n: number, d: number): number {
  const twice = 2 * n + d;
  return (twice - (twice % (2 * d))) / (2 * d);
}

function assertLine(amountMinor: number, rateBps: number): void {
  const ok =
    Number.isSafeInteger(amountMinor) &&
    amountMinor >= 0 &&
    Number.isInteger(rateBps) &&
    rateBps >= 0 &&
    rateBps <= MAX_TAX_RATE_BPS &&
    Number.isSafeInteger(amountMinor * (BPS + rateBps) * 2);
  if (!ok) throw new RangeError(`tax out of range: ${amountMinor} at ${rateBps} bps`);
}

/** The tax of one line of `amountMinor` (as entered) at `rateBps`, rounded half up. */
export function lineTaxMinor(amountMinor: number, rateBps: number, inclusive: boolean): number {
  assertLine(amountMinor, rateBps);
  return divHalfUp(amountMinor * rateBps, inclusive ? BPS + rateBps : BPS);
}

/** One rate's sum: the net amount taxed at it and the tax. */
export interface TaxLine {
  rateBps: number;
  baseMinor: number;
  taxMinor: number;
}

export interface TaxableLine {
  /** What the line costs as entered (unit price × quantity, or the delivery fee). */
  amountMinor: number;
  rateBps: number;
}

export interface OrderTax {
  /** The tax of each line, in the order given. */
  lineTaxMinor: number[];
  deliveryTaxMinor: number;
  /** Σ line taxes + the delivery's tax. */
  taxMinor: number;
  /** What the tax adds to the order's total: the tax when exclusive, 0 when inclusive. */
  addedMinor: number;
  /** Per rate (ascending), lines taxed at 0 left out. */
  lines: TaxLine[];
}

/** Groups taxed lines by rate (ascending), leaving out the rate 0. */
export function byRate(lines: ReadonlyArray<TaxLine>): TaxLine[] {
  const out = new Map<number, TaxLine>();
  for (const l of lines) {
    if (l.rateBps === 0) continue;
    const sum = out.get(l.rateBps) ?? { rateBps: l.rateBps, baseMinor: 0, taxMinor: 0 };
    sum.baseMinor += l.baseMinor;
    sum.taxMinor += l.taxMinor;
    out.set(l.rateBps, sum);
  }
  return [...out.values()].sort((a, b) => a.rateBps - b.rateBps);
}

/** The net amount of a line whose `amountMinor` carries `taxMinor` of tax as entered. */
export function baseOf(amountMinor: number, taxMinor: number, inclusive: boolean): number {
  return inclusive ? amountMinor - taxMinor : amountMinor;
}

/** The taxes of one order (one shop): per line, the delivery fee's, their sum and breakdown. */
export function taxOrder(input: {
  inclusive: boolean;
  lines: ReadonlyArray<TaxableLine>;
  delivery: TaxableLine;
}): OrderTax {
  const { inclusive } = input;
  const taxed = [...input.lines, input.delivery].map((l) => {
    const tax = lineTaxMinor(l.amountMinor, l.rateBps, inclusive);
    return { rateBps: l.rateBps, baseMinor: baseOf(l.amountMinor, tax, inclusive), taxMinor: tax };
  });
  const delivery = taxed.pop();
  const deliveryTaxMinor = delivery?.taxMinor ?? 0;
  const taxMinor = taxed.reduce((a, l) => a + l.taxMinor, 0) + deliveryTaxMinor;
  return {
    lineTaxMinor: taxed.map((l) => l.taxMinor),
    deliveryTaxMinor,
    taxMinor,
    addedMinor: inclusive ? 0 : taxMinor,
    lines: byRate(delivery ? [...taxed, delivery] : taxed),
  };
}

/** One taxed line of a paid order, with what earlier refunds already gave back of it. */
export interface RefundableLine {
  /** The order item's id, or `delivery`. */
  line: string;
  rateBps: number;
  baseMinor: number;
  taxMinor: number;
  refundedBaseMinor: number;
  refundedTaxMinor: number;
}

export interface RefundTaxShare {
  line: string;
  rateBps: number;
  baseMinor: number;
  taxMinor: number;
}

/** `a × b / d` rounded half up, exact for any safe integers (the product may pass 2^53). */
function mulDivHalfUp(a: number, b: number, d: number): number {
  const n = BigInt(a) * BigInt(b);
  const dd = BigInt(d);
  return Number((2n * n + dd) / (2n * dd));
}

/**
 * The tax (and net base) a refund of `amountMinor` gives back, per line. A refund for one line
 * (`target`: an item's id, or `delivery`) takes its share from that line only, in proportion to
 * what is left of that line (its base + tax not yet refunded); any other refund takes from every
 * line in proportion to what is left of the order (`leftMinor`: its total less the refunds before
 * this one). Per line, rounded half up:
 *
 *   share = round_half_up(refund × what is left of the line's tax / what is left)
 *
 * and the same for the base. Each share is capped at what is left of its line, so refunds never
 * give back more tax than was charged, and a refund of everything that is left gives back
 * exactly the tax that is left, whatever the partial refunds before it.
 */
export function refundTaxShare(
  lines: ReadonlyArray<RefundableLine>,
  amountMinor: number,
  opts: { target: string | null; leftMinor: number },
): RefundTaxShare[] {
  const one = opts.target === null ? undefined : lines.find((l) => l.line === opts.target);
  const targeted = one ? [one] : lines;
  const left = targeted.map((l) => ({
    l,
    base: Math.max(0, l.baseMinor - l.refundedBaseMinor),
    tax: Math.max(0, l.taxMinor - l.refundedTaxMinor),
  }));
  const whole = one ? left.reduce((a, x) => a + x.base + x.tax, 0) : opts.leftMinor;
  if (whole <= 0 || amountMinor <= 0) return [];
  const amount = Math.min(amountMinor, whole);
  return left
    .map(({ l, base, tax }) => ({
      line: l.line,
      rateBps: l.rateBps,
      baseMinor: Math.min(base, mulDivHalfUp(amount, base, whole)),
      taxMinor: Math.min(tax, mulDivHalfUp(amount, tax, whole)),
    }))
    .filter((s) => s.baseMinor > 0 || s.taxMinor > 0);
}
