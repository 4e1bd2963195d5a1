/**
 * URLs a client gives us for others to load (product images): https to a public host only. A
 * URL naming loopback, a private network, link-local addresses or a cloud metadata endpoint
 * would turn whoever fetches it (a thumbnailer, a mail client, a browser on the seller's LAN)
 * into a probe of that network, so it is refused even over https. A public name that resolves
 * to a private address cannot be seen here; a server-side fetcher must check the address too.
 */
import { z } from "zod";

/** IPv4 ranges that are not on the public internet, as [first octets, prefix length]. */
const PRIVATE_V4: Array<[number[], number]> = [
  [[0], 8], // "this network"
  [[10], 8], // RFC 1918
  [[100, 64], 10], // carrier-grade NAT
  [[127], 8], // loopback
  [[169, 254], 16], // link-local, including 169.254.169.254 (cloud metadata)
  [[172, 16], 12], // RFC 1918
  [[192, 0, 0], 24], // IETF protocol assignments
  [[192, 168], 16], // RFC 1918
  [[198, 18], 15], // benchmarking
  [[224], 4], // multicast
  [[240], 4], // reserved, broadcast
];

function v4Octets(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p))) return null;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

function v4IsPrivate(octets: number[]): boolean {
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  return PRIVATE_V4.some(([start, bits]) => {
    const base = [...start, 0, 0, 0, 0].slice(0, 4).reduce((acc, o) => acc * 256 + o, 0);
    const size = 2 ** (32 - bits);
    return value >= base && value < base + size;
  });
}

/** The eight 16-bit groups of an IPv6 literal as the URL parser writes it (no brackets). */
function v6Groups(host: string): number[] | null {
  let text = host;
  const tail: number[] = [];
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const octets = v4Octets(dotted[1]);
    if (!octets) return null;
    tail.push(
      ((octets[0] ?? 0) << 8) | (octets[1] ?? 0),
      ((octets[2] ?? 0) << 8) | (octets[3] ?? 0),
    );
    text = `${text.slice(0, dotted.index)}:`;
  }
  const [head = "", rest] = text.split("::");
  const parse = (s: string) => (s === "" ? [] : s.split(":").map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest.replace(/:$/, ""));
  const fill = 8 - tail.length - left.length - right.length;
  if (fill < 0 || (rest === undefined && fill !== 0)) return null;
  const groups = [...left, ...new Array<number>(fill).fill(0), ...right, ...tail];
  return groups.some((g) => Number.isNaN(g)) ? null : groups;
}

function v6IsPrivate(groups: number[]): boolean {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const zeroTo = (n: number) => groups.slice(0, n).every((g) => g === 0);
  if (zeroTo(7) && (g7 === 0 || g7 === 1)) return true; // :: and ::1
  if ((g0 & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((g0 & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((g0 & 0xff00) === 0xff00) return true; // multicast
  const embedded = [g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff];
  // An IPv4 address inside IPv6 (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::)
  // reaches that IPv4 host, so it is judged as one.
  const mapped = zeroTo(5) && (g5 === 0xffff || g5 === 0);
  const nat64 = g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0;
  return (mapped || nat64) && v4IsPrivate(embedded);
}

/**
 * Whether a URL's hostname (as `new URL().hostname` gives it: lower case, IPv4 in dotted
 * decimal, IPv6 in brackets) names a host on the public internet.
 */
export function isPublicHostname(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[") && host.endsWith("]")) {
    const groups = v6Groups(host.slice(1, -1));
    return groups !== null && !v6IsPrivate(groups);
  }
  const octets = v4Octets(host);
  if (octets) return !v4IsPrivate(octets);
  // A name with no dot only resolves on a local network; these suffixes never leave one.
  if (!host.includes(".")) return false;
  return !/\.(localhost|local|internal|home\.arpa)$/.test(host);
}

/** An https URL to a public host, at most 2048 characters (a product image). */
export const publicHttpsUrl = z
  .url({ protocol: /^https$/, error: "must be an https URL" })
  .max(2048)
  .refine(
    (u) => {
      try {
        return isPublicHostname(new URL(u).hostname);
      } catch {
        return false;
      }
    },
    { message: "must name a public host, not a loopback, private, link-local or metadata one" },
  );
