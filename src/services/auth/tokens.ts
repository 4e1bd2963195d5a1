import { errors, jwtVerify, SignJWT } from "jose";
import { Unauthenticated } from "../errors.ts";

/** HS256 only: the verifier pins it, so a token claiming `none` or RS256 is refused. */
const ALG = "HS256";
const ISSUER = "souk";
const AUDIENCE = "souk-api";
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 60 * 60;

export type Role = "buyer" | "seller" | "admin";

export interface AccessClaims {
  sub: string;
  role: Role;
  /**
   * The account was blocked when the token was signed (claim `blk`). The revocation set
   * (src/services/users/standing.ts) overrides it either way for tokens signed before a change.
   */
  blocked?: boolean;
}

const keys = new Map<string, Uint8Array>();
function keyOf(secret: string): Uint8Array {
  let k = keys.get(secret);
  if (!k) {
    k = new TextEncoder().encode(secret);
    keys.set(secret, k);
  }
  return k;
}

/** Signs a 15-minute access token. */
export async function signAccessToken(
  claims: AccessClaims,
  secret: string,
  now: number = Date.now(),
): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT(claims.blocked ? { role: claims.role, blk: true } : { role: claims.role })
    .setProtectedHeader({ alg: ALG, typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ACCESS_TOKEN_TTL_SECONDS)
    .sign(keyOf(secret));
}

const ROLES = new Set<string>(["buyer", "seller", "admin"]);

/** Verifies an access token; any failure is UNAUTHENTICATED with a reason that says which. */
export async function verifyAccessToken(token: string, secret: string): Promise<AccessClaims> {
  try {
    const { payload } = await jwtVerify(token, keyOf(secret), {
      algorithms: [ALG],
      issuer: ISSUER,
      audience: AUDIENCE,
      // jose checks `exp` only when present: a token without one would never expire.
      requiredClaims: ["exp", "iat", "sub"],
    });
    const role = payload.role;
    if (typeof payload.sub !== "string" || typeof role !== "string" || !ROLES.has(role)) {
      throw new Unauthenticated("The access token is malformed.");
    }
    return { sub: payload.sub, role: role as Role, blocked: payload.blk === true };
  } catch (err) {
    if (err instanceof Unauthenticated) throw err;
    if (err instanceof errors.JWTExpired)
      throw new Unauthenticated("The access token has expired.");
    throw new Unauthenticated("The access token is not valid.");
  }
}

/** An opaque refresh token: 256 random bits, base64url. Only its SHA-256 is stored. */
export function newRefreshToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
