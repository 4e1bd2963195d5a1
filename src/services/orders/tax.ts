import { and, eq, ne } from "drizzle-orm";
import type { Tx } from "../../db/client.ts";
import { type Order, orderItems, type RefundTaxLine, refunds } from "../../db/schema/orders.ts";
import {
  baseOf,
  byRate,
  type RefundableLine,
  refundTaxShare,
  type TaxLine,
} from "../../lib/tax.ts";

type TaxedOrder = Pick<
  Order,
  "pricesIncludeTax" | "deliveryFeeMinor" | "deliveryTaxRateBps" | "deliveryTaxMinor"
>;
type TaxedItem = { id: string; unitPriceMinor: number; quantity: number } & {
  taxRateBps: number;
  taxMinor: number;
};

/** The key of the delivery fee's line in refund tax shares (items use their id). */
export const DELIVERY_LINE = "delivery";

type LineTax = TaxLine & { line: string };

/** Every taxed line of an order as stored: its items, then the delivery fee. */
function linesOf(order: TaxedOrder, items: ReadonlyArray<TaxedItem>): LineTax[] {
  const incl = order.pricesIncludeTax;
  return [
    ...items.map((i) => ({
      line: i.id,
      rateBps: i.taxRateBps,
      baseMinor: baseOf(i.unitPriceMinor * i.quantity, i.taxMinor, incl),
      taxMinor: i.taxMinor,
    })),
    {
      line: DELIVERY_LINE,
      rateBps: order.deliveryTaxRateBps,
      baseMinor: baseOf(order.deliveryFeeMinor, order.deliveryTaxMinor, incl),
      taxMinor: order.deliveryTaxMinor,
    },
  ];
}

/** The order's tax per rate (rate 0 left out), from its stored lines. */
export function orderTaxLines(order: TaxedOrder, items: ReadonlyArray<TaxedItem>): TaxLine[] {
  return byRate(linesOf(order, items));
}

/** A refund's tax per rate, from its per-line shares. */
export function refundTaxLines(lines: ReadonlyArray<RefundTaxLine>): TaxLine[] {
  return byRate(lines);
}

/**
 * The tax a new refund of `amountMinor` gives back (src/lib/tax.ts `refundTaxShare`), inside
 * the caller's transaction with the order locked: a refund for an item (`item:<id>`) or for the
 * delivery fee (`delivery`) takes from that line; any other from every line in proportion to
 * what is left of the order. What earlier refunds (not failed) gave back is left out.
 */
export async function refundTaxOf(
  tx: Tx,
  order: Order,
  reasonKey: string,
  amountMinor: number,
): Promise<{ taxMinor: number; taxLines: RefundTaxLine[] }> {
  if (order.taxMinor === 0) return { taxMinor: 0, taxLines: [] };
  const items = await tx.select().from(orderItems).where(eq(orderItems.orderId, order.id));
  const earlier = await tx
    .select({ amountMinor: refunds.amountMinor, taxLines: refunds.taxLines })
    .from(refunds)
    .where(and(eq(refunds.orderId, order.id), ne(refunds.status, "failed")));
  const given = new Map<string, { base: number; tax: number }>();
  for (const share of earlier.flatMap((r) => r.taxLines)) {
    const g = given.get(share.line) ?? { base: 0, tax: 0 };
    g.base += share.baseMinor;
    g.tax += share.taxMinor;
    given.set(share.line, g);
  }
  const lines: RefundableLine[] = linesOf(order, items).map((l) => ({
    ...l,
    refundedBaseMinor: given.get(l.line)?.base ?? 0,
    refundedTaxMinor: given.get(l.line)?.tax ?? 0,
  }));
  const target = reasonKey.startsWith("item:")
    ? reasonKey.slice(5)
    : reasonKey === DELIVERY_LINE
      ? DELIVERY_LINE
      : null;
  const leftMinor = order.totalMinor - earlier.reduce((a, r) => a + r.amountMinor, 0);
  const taxLines = refundTaxShare(lines, amountMinor, { target, leftMinor });
  return { taxMinor: taxLines.reduce((a, l) => a + l.taxMinor, 0), taxLines };
}
