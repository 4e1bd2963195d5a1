import { z } from "zod";
import { ValidationFailed } from "../errors.ts";

/**
 * The parts every mailed or texted one-time code shares (a shop's contact OTP, an account's
 * password reset or email proof): how a code is drawn, kept and checked. Each caller keeps its
 * own table and decides what a right code does.
 */

export const ONE_TIME_CODE_MAX_ATTEMPTS = 5;
export const oneTimeCode = z.string().regex(/^\d{6}$/, "must be the 6-digit code");

const CODE_SPACE = 1_000_000;
// The largest multiple of 10^6 that fits in 32 bits: below it, n % 10^6 is uniform.
const UNBIASED_LIMIT = 2 ** 32 - (2 ** 32 % CODE_SPACE);

/** A uniformly random 6-digit code: rejection sampling, so no digit pattern is likelier. */
export function generateOneTimeCode(): string {
  const buf = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(buf);
    const n = buf[0] ?? UNBIASED_LIMIT;
    if (n < UNBIASED_LIMIT) return String(n % CODE_SPACE).padStart(6, "0");
  }
}

/**
 * HMAC-SHA256 of the code, keyed by the server's pepper and bound to `binding` (the code's id,
 * its owner, its purpose): a stolen table cannot be brute-forced offline (10^6 codes) without
 * the secret, and a hash cannot be replayed against another owner or purpose.
 */
export async function hashOneTimeCode(
  secret: string,
  binding: readonly string[],
  code: string,
): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    enc.encode(`souk-otp:v1:${binding.join(":")}:${code}`),
  );
  return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("");
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export type CodeCheck =
  | { kind: "ok" }
  | { kind: "expired" }
  /** Count the try; `exhausted` means the code must be voided with it. */
  | { kind: "wrong"; failedAttempts: number; exhausted: boolean; remaining: number };

/**
 * Checks a presented code against a stored, locked row. The caller writes the outcome (consume,
 * or count the try) in the same transaction, so concurrent guesses are all counted.
 */
export async function checkOneTimeCode(
  secret: string,
  row: { codeHash: string; expiresAt: Date; failedAttempts: number },
  binding: readonly string[],
  code: string,
  now: Date = new Date(),
): Promise<CodeCheck> {
  if (row.expiresAt.getTime() <= now.getTime()) return { kind: "expired" };
  const expected = await hashOneTimeCode(secret, binding, code);
  if (constantTimeEqual(expected, row.codeHash)) return { kind: "ok" };
  const failedAttempts = row.failedAttempts + 1;
  return {
    kind: "wrong",
    failedAttempts,
    exhausted: failedAttempts >= ONE_TIME_CODE_MAX_ATTEMPTS,
    remaining: Math.max(0, ONE_TIME_CODE_MAX_ATTEMPTS - failedAttempts),
  };
}

/** `a***@example.com`, `+35191****678`: enough to recognise, not enough to harvest. */
export function maskDestination(to: string): string {
  const at = to.indexOf("@");
  if (at > 0) return `${to[0]}***${to.slice(at)}`;
  return `${to.slice(0, 6)}${"*".repeat(Math.max(0, to.length - 9))}${to.slice(-3)}`;
}

/** The 422 for a wrong code, saying how many tries are left before the code is void. */
export function wrongCodeError(remaining: number): ValidationFailed {
  const message =
    remaining > 0
      ? `is wrong; ${remaining} ${remaining === 1 ? "try" : "tries"} left`
      : "is wrong; the code is now void, request a new one";
  return new ValidationFailed([{ field: "code", in: "body", message }], "The code is wrong.");
}
