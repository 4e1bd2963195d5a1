import { and, eq, gt, isNull } from "drizzle-orm";
import { withAudit } from "../../db/audit.ts";
import type { Queryable } from "../../db/client.ts";
import { refreshTokens } from "../../db/schema/refresh-tokens.ts";
import { sha256Hex } from "../../lib/hash.ts";
import { uuidv7 } from "../../lib/ids.ts";
import type { ServiceContext } from "../context.ts";
import { Unauthenticated } from "../errors.ts";
import {
  ACCESS_TOKEN_TTL_SECONDS,
  newRefreshToken,
  REFRESH_TOKEN_TTL_SECONDS,
  type Role,
  signAccessToken,
} from "./tokens.ts";

export interface Session {
  accessToken: string;
  tokenType: "Bearer";
  expiresIn: number;
  refreshToken: string;
  refreshExpiresAt: string;
}

/** The account a session is for; `blockedAt` set puts the `blk` claim in its access tokens. */
type SessionUser = { id: string; role: Role; blockedAt?: Date | null };

async function issue(
  db: Queryable,
  ctx: ServiceContext,
  user: SessionUser,
  familyId: string,
): Promise<Session> {
  const refreshToken = newRefreshToken();
  const expiresAt = new Date(Date.now() + REFRESH_TOKEN_TTL_SECONDS * 1000);
  await db.insert(refreshTokens).values({
    id: uuidv7(),
    userId: user.id,
    familyId,
    tokenHash: await sha256Hex(refreshToken),
    expiresAt,
  });
  return {
    accessToken: await signAccessToken(
      { sub: user.id, role: user.role, blocked: Boolean(user.blockedAt) },
      ctx.config.JWT_SECRET,
    ),
    tokenType: "Bearer",
    expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    refreshToken,
    refreshExpiresAt: expiresAt.toISOString(),
  };
}

/** Starts a new token family (a login or a registration). */
export async function startSession(
  ctx: ServiceContext,
  user: SessionUser,
  db: Queryable = ctx.db,
): Promise<Session> {
  return issue(db, ctx, user, uuidv7());
}

async function revokeFamily(db: Queryable, familyId: string): Promise<void> {
  await db
    .update(refreshTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
}

/**
 * Rotates a refresh token. The conditional UPDATE is the race guard: of two requests presenting
 * the same token, exactly one rotates it; the other is a reuse, and a reused token means it
 * leaked, so its whole family is revoked (RFC 6819 §5.2.2.3, OAuth 2.1 refresh rotation).
 */
export async function refreshSession(
  ctx: ServiceContext,
  input: { refreshToken: string },
): Promise<Session> {
  const hash = await sha256Hex(input.refreshToken);
  const outcome = await withAudit(ctx.db, ctx.actor, async (tx) => {
    const now = new Date();
    const [rotated] = await tx
      .update(refreshTokens)
      .set({ rotatedAt: now })
      .where(
        and(
          eq(refreshTokens.tokenHash, hash),
          isNull(refreshTokens.rotatedAt),
          isNull(refreshTokens.revokedAt),
          gt(refreshTokens.expiresAt, now),
        ),
      )
      .returning({ userId: refreshTokens.userId, familyId: refreshTokens.familyId });
    if (rotated) {
      const user = await tx.query.users.findFirst({
        columns: { id: true, role: true, deletedAt: true, blockedAt: true },
        where: (u, { eq: e }) => e(u.id, rotated.userId),
      });
      if (!user || user.deletedAt) {
        await revokeFamily(tx, rotated.familyId);
        return { kind: "gone" as const };
      }
      return { kind: "ok" as const, session: await issue(tx, ctx, user, rotated.familyId) };
    }
    const [known] = await tx
      .select({
        familyId: refreshTokens.familyId,
        rotatedAt: refreshTokens.rotatedAt,
        revokedAt: refreshTokens.revokedAt,
      })
      .from(refreshTokens)
      .where(eq(refreshTokens.tokenHash, hash));
    if (!known) return { kind: "unknown" as const };
    if (known.rotatedAt) {
      await revokeFamily(tx, known.familyId);
      return { kind: "reused" as const };
    }
    return { kind: known.revokedAt ? ("revoked" as const) : ("expired" as const) };
  });
  switch (outcome.kind) {
    case "ok":
      return outcome.session;
    case "reused":
      ctx.logger.warn("refresh token reuse detected; family revoked");
      throw new Unauthenticated(
        "The refresh token was already used; every session from it is revoked.",
      );
    case "expired":
      throw new Unauthenticated("The refresh token has expired.");
    case "revoked":
      throw new Unauthenticated("The refresh token has been revoked.");
    default:
      throw new Unauthenticated("The refresh token is not valid.");
  }
}

/** Ends the session the refresh token belongs to (its whole family). Idempotent. */
export async function endSession(
  ctx: ServiceContext,
  input: { refreshToken: string },
): Promise<void> {
  const hash = await sha256Hex(input.refreshToken);
  const [row] = await ctx.db
    .select({ familyId: refreshTokens.familyId })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, hash));
  if (row) await revokeFamily(ctx.db, row.familyId);
}

/**
 * Signs the user out everywhere: every refresh token revoked, so no device can renew its access
 * token (each lapses within its 15 minutes), with an audit row. Idempotent.
 */
export async function endAllSessions(ctx: ServiceContext, userId: string): Promise<void> {
  await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    await revokeAllSessions(tx, userId);
    await audit.record({
      action: "user.signed_out_everywhere",
      entityType: "user",
      entityId: userId,
    });
  });
}

/** Revokes every refresh token of a user (password change, block). */
export async function revokeAllSessions(db: Queryable, userId: string): Promise<void> {
  await db
    .update(refreshTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
}
