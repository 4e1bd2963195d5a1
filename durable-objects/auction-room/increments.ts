/**
 * Bid increments in integer minor units, eBay's published table by default (for currencies with
 * two decimals). Each step: from this price upward, the next bid must be at least this much
 * higher. Ordered by `fromMinor`, starting at 0.
 */
export interface IncrementStep {
  fromMinor: number;
  incrementMinor: number;
}

export const EBAY_INCREMENTS: readonly IncrementStep[] = [
  { fromMinor: 0, incrementMinor: 5 }, //          0.01 –   0.99 → 0.05
  { fromMinor: 100, incrementMinor: 25 }, //       1.00 –   4.99 → 0.25
  { fromMinor: 500, incrementMinor: 50 }, //       5.00 –  24.99 → 0.50
  { fromMinor: 2_500, incrementMinor: 100 }, //   25.00 –  99.99 → 1.00
  { fromMinor: 10_000, incrementMinor: 250 }, // 100.00 – 249.99 → 2.50
  { fromMinor: 25_000, incrementMinor: 500 }, // 250.00 – 499.99 → 5.00
  { fromMinor: 50_000, incrementMinor: 1_000 }, // 500.00 – 999.99 → 10.00
  { fromMinor: 100_000, incrementMinor: 2_500 }, // 1,000.00 – 2,499.99 → 25.00
  { fromMinor: 250_000, incrementMinor: 5_000 }, // 2,500.00 – 4,999.99 → 50.00
  { fromMinor: 500_000, incrementMinor: 10_000 }, // 5,000.00 and up → 100.00
];

/** The increment that applies at `priceMinor`. */
export function incrementAt(
  priceMinor: number,
  table: readonly IncrementStep[] = EBAY_INCREMENTS,
): number {
  let inc = table[0]?.incrementMinor ?? 1;
  for (const step of table) {
    if (priceMinor >= step.fromMinor) inc = step.incrementMinor;
    else break;
  }
  return inc;
}
