/** FNV-1a, 32 bits: a short, stable, synchronous tag (not a security boundary). */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/**
 * `souk:v1:{tag of host, port and database name}`. Keys are per database because one Redis
 * often serves several (the dev stack and every test run share the local one): without this,
 * one database's cached pages would be served for another's. Credentials are left out, so a
 * rotated password keeps the cache.
 */
export function cacheNamespace(databaseUrl: string): string {
  let where = databaseUrl;
  try {
    const url = new URL(databaseUrl);
    where = `${url.hostname}:${url.port}${url.pathname}`;
  } catch {
    // Not a URL: the whole string is still a stable tag.
  }
  return `souk:v1:${fnv1a(where)}`;
}
