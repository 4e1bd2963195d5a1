import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function randomString(length: number): string {
  const bytes = randomBytes(length);
  let out = "";
  // 62 does not divide 256 evenly; the slight bias is irrelevant for ids that need only be unique.
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

/** A Stripe-looking id: `pi_3Q…` with 24 random characters after the prefix. */
export function newId(prefix: string, length = 24): string {
  return `${prefix}_${randomString(length)}`;
}

/** `pi_…_secret_…`, the shape Stripe.js expects of a PaymentIntent's client secret. */
export function clientSecretFor(id: string): string {
  return `${id}_secret_${randomString(25)}`;
}

export function webhookSecret(): string {
  return `whsec_${randomString(32)}`;
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** Currencies without minor units: amounts are whole units. */
const ZERO_DECIMAL = new Set([
  "bif",
  "clp",
  "djf",
  "gnf",
  "jpy",
  "kmf",
  "krw",
  "mga",
  "pyg",
  "rwf",
  "ugx",
  "vnd",
  "vuv",
  "xaf",
  "xof",
  "xpf",
]);

/** Stripe's minimum charge amounts in minor units, for the common currencies. */
const MINIMUM_CHARGE: Record<string, number> = {
  usd: 50,
  eur: 50,
  gbp: 30,
  chf: 50,
  cad: 50,
  aud: 50,
  nzd: 50,
  sek: 300,
  nok: 300,
  dkk: 250,
  pln: 200,
  jpy: 50,
  mad: 500,
  aed: 200,
};

export function minimumCharge(currency: string): number {
  return MINIMUM_CHARGE[currency] ?? 50;
}

/** `$12.34 usd`-style text for error messages, as Stripe writes amounts in them. */
export function formatAmount(amount: number, currency: string): string {
  if (ZERO_DECIMAL.has(currency)) return `${amount} ${currency}`;
  const symbol =
    currency === "usd" ? "$" : currency === "eur" ? "€" : currency === "gbp" ? "£" : "";
  const major = (amount / 100).toFixed(2);
  return symbol ? `${symbol}${major}` : `${major} ${currency}`;
}
