import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lineTaxMinor, refundTaxShare, taxOrder } from "../../../src/lib/tax.ts";

const rate = fc.constantFrom(0, 500, 800, 1700, 1800, 2000, 2500, 10_000);
const line = fc.record({ amountMinor: fc.integer({ min: 0, max: 5_000_000 }), rateBps: rate });
const order = fc.record({
  inclusive: fc.boolean(),
  lines: fc.array(line, { minLength: 1, maxLength: 20 }),
  delivery: line,
});

describe("tax rules", () => {
  it("adds exclusive tax per line, rounded half up", () => {
    expect(lineTaxMinor(1000, 1700, false)).toBe(170);
    expect(lineTaxMinor(1003, 1700, false)).toBe(171); // 170.51
    expect(lineTaxMinor(50, 1000, false)).toBe(5);
    expect(lineTaxMinor(5, 1000, false)).toBe(1); // 0.5 rounds up
    expect(lineTaxMinor(4, 1000, false)).toBe(0); // 0.4
    expect(lineTaxMinor(999, 0, false)).toBe(0);
  });

  it("extracts inclusive tax as gross × rate / (1 + rate), rounded half up", () => {
    expect(lineTaxMinor(1170, 1700, true)).toBe(170);
    expect(lineTaxMinor(1000, 1700, true)).toBe(145); // 145.30
    expect(lineTaxMinor(11, 1000, true)).toBe(1); // exactly 1
    expect(lineTaxMinor(21, 5000, true)).toBe(7); // exactly 7
    expect(lineTaxMinor(3, 2000, true)).toBe(1); // 0.5 rounds up
    expect(lineTaxMinor(1000, 10_000, true)).toBe(500);
  });

  it("refuses negative amounts, rates over 100% and amounts that lose precision", () => {
    expect(() => lineTaxMinor(-1, 1700, false)).toThrow(RangeError);
    expect(() => lineTaxMinor(100, 10_001, false)).toThrow(RangeError);
    expect(() => lineTaxMinor(Number.MAX_SAFE_INTEGER, 1700, false)).toThrow(RangeError);
  });

  it("sums the order's tax from its lines, never negative, grouped by rate", () => {
    fc.assert(
      fc.property(order, (o) => {
        const t = taxOrder(o);
        const each = o.lines.map((l) => lineTaxMinor(l.amountMinor, l.rateBps, o.inclusive));
        expect(t.lineTaxMinor).toEqual(each);
        expect(t.taxMinor).toBe(
          each.reduce((a, b) => a + b, 0) +
            lineTaxMinor(o.delivery.amountMinor, o.delivery.rateBps, o.inclusive),
        );
        expect(t.lines.reduce((a, l) => a + l.taxMinor, 0)).toBe(t.taxMinor);
        for (const l of t.lines) {
          expect(l.taxMinor).toBeGreaterThanOrEqual(0);
          expect(l.baseMinor).toBeGreaterThanOrEqual(0);
        }
        expect(t.addedMinor).toBe(o.inclusive ? 0 : t.taxMinor);
      }),
    );
  });

  it("leaves the buyer's total at the listed prices when prices include tax", () => {
    fc.assert(
      fc.property(order, (o) => {
        const t = taxOrder({ ...o, inclusive: true });
        const listed = [...o.lines, o.delivery].reduce((a, l) => a + l.amountMinor, 0);
        expect(t.addedMinor).toBe(0);
        // Base + tax of every line is exactly what was listed (rate 0 lines are their own base).
        const zeroRated = [...o.lines, o.delivery]
          .filter((l) => l.rateBps === 0)
          .reduce((a, l) => a + l.amountMinor, 0);
        expect(t.lines.reduce((a, l) => a + l.baseMinor + l.taxMinor, 0) + zeroRated).toBe(listed);
      }),
    );
  });

  it("gives back exactly the tax charged once everything is refunded, whatever the steps", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ amountMinor: fc.integer({ min: 1, max: 50_000 }), rateBps: rate }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.array(fc.integer({ min: 1, max: 40_000 }), { maxLength: 6 }),
        (items, partials) => {
          const t = taxOrder({
            inclusive: false,
            lines: items,
            delivery: { amountMinor: 0, rateBps: 0 },
          });
          const lines = items.map((l, i) => ({
            line: `item-${i}`,
            rateBps: l.rateBps,
            baseMinor: l.amountMinor,
            taxMinor: t.lineTaxMinor[i] ?? 0,
            refundedBaseMinor: 0,
            refundedTaxMinor: 0,
          }));
          const total = lines.reduce((a, l) => a + l.baseMinor + l.taxMinor, 0);
          let refunded = 0;
          for (const asked of [...partials, Number.MAX_SAFE_INTEGER]) {
            const amount = Math.min(asked, total - refunded);
            if (amount <= 0) break;
            for (const s of refundTaxShare(lines, amount, {
              target: null,
              leftMinor: total - refunded,
            })) {
              const l = lines.find((x) => x.line === s.line);
              if (!l) throw new Error("unknown line");
              expect(s.taxMinor).toBeGreaterThanOrEqual(0);
              l.refundedBaseMinor += s.baseMinor;
              l.refundedTaxMinor += s.taxMinor;
              expect(l.refundedTaxMinor).toBeLessThanOrEqual(l.taxMinor);
            }
            refunded += amount;
          }
          for (const l of lines) expect(l.refundedTaxMinor).toBe(l.taxMinor);
        },
      ),
    );
  });

  it("takes a line's refund from that line only", () => {
    const lines = [
      { line: "a", rateBps: 1700, baseMinor: 1000, taxMinor: 170 },
      { line: "b", rateBps: 0, baseMinor: 500, taxMinor: 0 },
    ].map((l) => ({ ...l, refundedBaseMinor: 0, refundedTaxMinor: 0 }));
    expect(refundTaxShare(lines, 500, { target: "b", leftMinor: 1670 })).toEqual([
      { line: "b", rateBps: 0, baseMinor: 500, taxMinor: 0 },
    ]);
    expect(refundTaxShare(lines, 1170, { target: "a", leftMinor: 1670 })).toEqual([
      { line: "a", rateBps: 1700, baseMinor: 1000, taxMinor: 170 },
    ]);
    // Half of everything: each line gives back half its tax, rounded per line.
    expect(refundTaxShare(lines, 835, { target: null, leftMinor: 1670 })).toEqual([
      { line: "a", rateBps: 1700, baseMinor: 500, taxMinor: 85 },
      { line: "b", rateBps: 0, baseMinor: 250, taxMinor: 0 },
    ]);
  });
});
