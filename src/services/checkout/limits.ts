/**
 * What one buyer may hold at once, so nobody can take a flash sale's whole stock for the length
 * of the payment window (issue 11.1). Both are checked inside the purchase's one write, so they
 * cost no round trip of their own.
 */

/** Units of one product per buyer over all their unpaid checkouts, unless the seller set one. */
export const DEFAULT_MAX_PER_BUYER = 10;

/** Unpaid checkouts one buyer may have open (before their payment deadline) at once. */
export const MAX_OPEN_CHECKOUTS = 5;

/** A product's limit per buyer: the seller's, else the platform's. */
export function maxPerBuyerOf(line: { maxPerBuyer?: number | null | undefined }): number {
  return line.maxPerBuyer ?? DEFAULT_MAX_PER_BUYER;
}
