import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import { credentials } from "../../db/schema/credentials.ts";
import { shops } from "../../db/schema/shops.ts";
import { users } from "../../db/schema/users.ts";
import { text } from "../../lib/text.ts";
import { tellRoomsOfBlock } from "../auctions/eligibility.ts";
import { hashPassword, verifyPassword } from "../auth/password.ts";
import { passwordSchema } from "../auth/register.ts";
import { revokeAllSessions } from "../auth/session.ts";
import type { ServiceContext } from "../context.ts";
import { Conflict, NotFound, ValidationFailed } from "../errors.ts";
import { type PublicUser, toPublicUser } from "./public-user.ts";
import { recordStanding } from "./standing.ts";

/** The signed-in user's profile. */
export async function getProfile(ctx: ServiceContext, userId: string): Promise<PublicUser> {
  const user = await ctx.db.query.users.findFirst({
    where: and(eq(users.id, userId), isNull(users.deletedAt)),
  });
  if (!user) throw new NotFound("user", userId);
  return toPublicUser(user);
}

export const updateProfileInput = z
  .object({
    displayName: text().trim().min(1).max(80).optional(),
    currentPassword: z.string().min(1).max(256).optional(),
    newPassword: passwordSchema.optional(),
  })
  .refine((v) => !v.newPassword || v.currentPassword, {
    message: "is required to set a new password",
    path: ["currentPassword"],
  })
  // The refinement, as the document says it (JSON Schema's dependentRequired).
  .meta({ dependentRequired: { newPassword: ["currentPassword"] } });
export type UpdateProfileInput = z.input<typeof updateProfileInput>;

/** Changes the display name and/or the password; a new password signs out every session. */
export async function updateProfile(
  ctx: ServiceContext,
  userId: string,
  raw: UpdateProfileInput,
): Promise<PublicUser> {
  const input = updateProfileInput.parse(raw);
  if (input.displayName === undefined && !input.newPassword) return getProfile(ctx, userId);
  return withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const before = await tx.query.users.findFirst({
      where: and(eq(users.id, userId), isNull(users.deletedAt)),
    });
    if (!before) throw new NotFound("user", userId);
    if (input.newPassword) {
      const cred = await tx.query.credentials.findFirst({ where: eq(credentials.userId, userId) });
      const ok =
        cred &&
        (await verifyPassword(
          input.currentPassword ?? "",
          ctx.config.PASSWORD_PEPPER,
          cred.passwordHash,
        ));
      if (!ok) {
        throw new ValidationFailed([{ field: "currentPassword", in: "body", message: "is wrong" }]);
      }
      const passwordHash = await hashPassword(
        input.newPassword,
        ctx.config.PASSWORD_PEPPER,
        ctx.config.PBKDF2_ITERATIONS,
      );
      await tx
        .update(credentials)
        .set({ passwordHash, updatedAt: new Date() })
        .where(eq(credentials.userId, userId));
      await revokeAllSessions(tx, userId);
      await audit.record({ action: "user.password_changed", entityType: "user", entityId: userId });
    }
    const [after] = await tx
      .update(users)
      .set({ displayName: input.displayName ?? before.displayName, updatedAt: new Date() })
      .where(eq(users.id, userId))
      .returning();
    if (!after) throw new NotFound("user", userId);
    if (input.displayName !== undefined) {
      await audit.record({
        action: "user.updated",
        entityType: "user",
        entityId: userId,
        oldValue: { displayName: before.displayName },
        newValue: { displayName: after.displayName },
      });
    }
    return toPublicUser(after);
  });
}

export const deleteAccountInput = z.object({ currentPassword: z.string().min(1).max(256) });

/**
 * The signed-in user deletes their account (soft delete, audited `user.deleted`), confirming
 * with their password. Every session ends, and before this returns the revocation set holds the
 * deletion, so the account's access tokens still valid are refused (401) at once, and the auction
 * rooms that hold it as eligible are told (a bid reads no revocation set). An owner of a
 * live shop is refused (409): the shop would be left with nobody to run it. The email is free
 * for a new account afterwards.
 */
export async function deleteAccount(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof deleteAccountInput>,
): Promise<void> {
  const input = deleteAccountInput.parse(raw);
  await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [user] = await tx
      .select({ id: users.id, passwordHash: credentials.passwordHash })
      .from(users)
      .innerJoin(credentials, eq(credentials.userId, users.id))
      .where(and(eq(users.id, userId), isNull(users.deletedAt)))
      .for("update", { of: users });
    if (!user) throw new NotFound("user", userId);
    const ok = await verifyPassword(
      input.currentPassword,
      ctx.config.PASSWORD_PEPPER,
      user.passwordHash,
    );
    if (!ok) {
      throw new ValidationFailed([{ field: "currentPassword", in: "body", message: "is wrong" }]);
    }
    const [owned] = await tx
      .select({ id: shops.id })
      .from(shops)
      .where(and(eq(shops.ownerId, userId), isNull(shops.deletedAt)))
      .limit(1);
    if (owned) {
      throw new Conflict("You own a shop: close it before deleting your account.", {
        shopId: owned.id,
      });
    }
    const now = new Date();
    await tx.update(users).set({ deletedAt: now, updatedAt: now }).where(eq(users.id, userId));
    await revokeAllSessions(tx, userId);
    await audit.record({ action: "user.deleted", entityType: "user", entityId: userId });
  });
  // The bid path reads no revocation set: the rooms holding the account as eligible ask again.
  await Promise.all([recordStanding(ctx, userId, "deleted"), tellRoomsOfBlock(ctx, userId)]);
}
