import { MAX_PBKDF2_ITERATIONS } from "../../env.ts";

/**
 * PBKDF2-SHA256 through WebCrypto, with a secret pepper mixed in by HMAC before derivation, so a
 * stolen database alone cannot be brute-forced. Stored as a PHC-style string:
 * `$pbkdf2-sha256$i=<iterations>$<salt b64>$<hash b64>`.
 */
const ALGORITHM = "pbkdf2-sha256";
const SALT_BYTES = 16;
const HASH_BITS = 256;

const enc = new TextEncoder();

function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/=+$/, "");
}

function unb64(s: string): Uint8Array {
  const bin = atob(s);
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

async function peppered(password: string, pepper: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(pepper),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(
    await crypto.subtle.sign("HMAC", key, enc.encode(password.normalize("NFKC"))),
  );
}

async function derive(
  password: string,
  pepper: string,
  salt: Uint8Array,
  iterations: number,
): Promise<Uint8Array> {
  const material = await crypto.subtle.importKey(
    "raw",
    await peppered(password, pepper),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    material,
    HASH_BITS,
  );
  return new Uint8Array(bits);
}

/** Hashes a password; refuses an iteration count that Cloudflare's runtime would refuse. */
export async function hashPassword(
  password: string,
  pepper: string,
  iterations: number = MAX_PBKDF2_ITERATIONS,
): Promise<string> {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) {
    throw new RangeError(`PBKDF2 iterations must be 1..${MAX_PBKDF2_ITERATIONS}`);
  }
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, pepper, salt, iterations);
  return `$${ALGORITHM}$i=${iterations}$${b64(salt)}$${b64(hash)}`;
}

export interface ParsedHash {
  iterations: number;
  salt: Uint8Array;
  hash: Uint8Array;
}

export function parsePasswordHash(phc: string): ParsedHash | null {
  const m = /^\$pbkdf2-sha256\$i=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(phc);
  if (!m?.[1] || !m[2] || !m[3]) return null;
  return { iterations: Number(m[1]), salt: unb64(m[2]), hash: unb64(m[3]) };
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Checks a password against a stored PHC string in constant time. */
export async function verifyPassword(
  password: string,
  pepper: string,
  phc: string,
): Promise<boolean> {
  const parsed = parsePasswordHash(phc);
  if (!parsed || parsed.iterations > MAX_PBKDF2_ITERATIONS) return false;
  const hash = await derive(password, pepper, parsed.salt, parsed.iterations);
  return constantTimeEqual(hash, parsed.hash);
}

/**
 * A hash computed for unknown emails so that "no such user" takes as long as "wrong password"
 * and login timing does not reveal which emails have accounts.
 */
export async function burnPasswordCheck(pepper: string, iterations: number): Promise<void> {
  await derive("not-a-password", pepper, new Uint8Array(SALT_BYTES), iterations);
}
