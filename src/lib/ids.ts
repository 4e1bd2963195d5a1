/**
 * UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits. Sortable by creation time,
 * which is what cursor pagination leans on. Within one millisecond the counter in rand_a keeps
 * ids from one isolate strictly increasing.
 */
let lastMs = 0;
let counter = 0;

/** "00".."ff": formatting by table lookup, not 16 toString + padStart calls (hot: every id). */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** Writes `ms` as 48 bits big-endian into bytes 0..5 (exact for any ms below 2^48). */
function writeMs(bytes: Uint8Array, ms: number): void {
  const high = Math.floor(ms / 0x100000000);
  const low = ms >>> 0;
  bytes[0] = (high >>> 8) & 0xff;
  bytes[1] = high & 0xff;
  bytes[2] = (low >>> 24) & 0xff;
  bytes[3] = (low >>> 16) & 0xff;
  bytes[4] = (low >>> 8) & 0xff;
  bytes[5] = low & 0xff;
}

function formatUuid(b: Uint8Array): string {
  const h = (i: number) => HEX[b[i] ?? 0];
  return (
    `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-${h(8)}${h(9)}-` +
    `${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`
  );
}

/**
 * Random bytes drawn from the CSPRNG 4 KiB at a time and handed out 16 per id: one
 * getRandomValues call per 256 ids instead of one per id (a purchase mints about ten).
 */
const pool = new Uint8Array(4096);
let poolAt = pool.length;

function randomBytes16(): Uint8Array {
  if (poolAt + 16 > pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  const out = pool.slice(poolAt, poolAt + 16);
  poolAt += 16;
  return out;
}

export function uuidv7(now: number = Date.now()): string {
  const bytes = randomBytes16();
  if (now <= lastMs) {
    counter = (counter + 1) & 0xfff;
    if (counter === 0) lastMs += 1;
    now = lastMs;
  } else {
    lastMs = now;
    counter = (bytes[6] ?? 0) & 0x07;
  }
  writeMs(bytes, now);
  bytes[6] = 0x70 | ((counter >> 8) & 0x0f);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  return formatUuid(bytes);
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/**
 * A UUIDv8 (RFC 9562, custom) named by `name`: the same name always gives the same id. For ids a
 * retry must find again (a checkout named by its buyer and Idempotency-Key).
 */
export async function namedUuid(name: string): Promise<string> {
  const bytes = await sha256(name);
  bytes[6] = 0x80 | ((bytes[6] ?? 0) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  return formatUuid(bytes);
}

/**
 * A UUIDv7 whose time is `ms` and whose other bits are named by `name`: sortable by time like
 * every v7, and the same (ms, name) always gives the same id.
 */
export async function namedUuidv7(ms: number, name: string): Promise<string> {
  const bytes = await sha256(name);
  writeMs(bytes, ms);
  bytes[6] = 0x70 | ((bytes[6] ?? 0) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  return formatUuid(bytes);
}

/** The millisecond a UUIDv7 was made at. */
export function uuidv7Time(id: string): number {
  return Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);
}
