/**
 * ISO 4217 currencies a shop may price in: the ones Stripe settles in the markets we serve,
 * with their minor units as Stripe counts them in API amounts (docs.stripe.com/currencies):
 * every amount in Souk is an integer of these units (cents for EUR, agorot for ILS, paisa for
 * PKR, whole yen for JPY). HUF is two-decimal for charges (Stripe lists it as a special case only
 * for payouts, which must be whole forints); ILS and PKR are ordinary two-decimal currencies.
 */
export const SUPPORTED_CURRENCIES = [
  "EUR",
  "USD",
  "GBP",
  "CHF",
  "SEK",
  "NOK",
  "DKK",
  "PLN",
  "CZK",
  "HUF",
  "RON",
  "CAD",
  "AUD",
  "NZD",
  "JPY",
  "SGD",
  "HKD",
  "MXN",
  "BRL",
  "INR",
  "ZAR",
  "AED",
  "MAD",
  "TRY",
  "ILS",
  "PKR",
] as const;
export type SupportedCurrency = (typeof SUPPORTED_CURRENCIES)[number];

/** Stripe's zero-decimal currencies among ours: an amount is whole units. */
const ZERO_DECIMAL: ReadonlySet<string> = new Set<SupportedCurrency>(["JPY"]);

export function isSupportedCurrency(code: string): code is SupportedCurrency {
  return (SUPPORTED_CURRENCIES as readonly string[]).includes(code);
}

/** Digits after the decimal point of one major unit: 0 for JPY, 2 for the others we support. */
export function minorUnits(currency: string): 0 | 2 {
  return ZERO_DECIMAL.has(currency.toUpperCase()) ? 0 : 2;
}

/**
 * An amount of minor units as text for people (messages, emails): `24.90 EUR`, `1500 JPY`,
 * `-3.05 ILS`. Integers only; never a float in between, so no rounding can creep in.
 */
export function formatMoney(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`not an amount of minor units: ${minor}`);
  const code = currency.toUpperCase();
  const digits = minorUnits(code);
  if (digits === 0) return `${minor} ${code}`;
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  const scale = 10 ** digits;
  const fraction = String(abs % scale).padStart(digits, "0");
  return `${sign}${Math.floor(abs / scale)}.${fraction} ${code}`;
}
