import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import { credentials } from "../../db/schema/credentials.ts";
import { users } from "../../db/schema/users.ts";
import { errorMessage } from "../../lib/errors.ts";
import type { ServiceContext } from "../context.ts";
import { ValidationFailed } from "../errors.ts";
import {
  consumeAccountCode,
  issueAccountCode,
  lockAccount,
  mailAccountCode,
} from "./account-codes.ts";
import { loginInput } from "./login.ts";
import { oneTimeCode } from "./one-time-code.ts";
import { hashPassword } from "./password.ts";
import { passwordSchema } from "./register.ts";
import { revokeAllSessions } from "./session.ts";

export const passwordResetRequestInput = z.object({ email: loginInput.shape.email });
export const passwordResetConfirmInput = z.object({
  email: loginInput.shape.email,
  code: oneTimeCode,
  newPassword: passwordSchema,
});

async function liveUserId(ctx: ServiceContext, email: string): Promise<string | undefined> {
  const [row] = await ctx.db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.email, email), isNull(users.deletedAt)));
  return row?.id;
}

/**
 * Mails a reset code to the address if a live account has it. The caller answers the same
 * whatever happens here (no account, a concurrent request, a queue failure), so nothing thrown
 * after the input is parsed may reach the client: failures are logged instead.
 */
export async function requestPasswordReset(
  ctx: ServiceContext,
  raw: z.input<typeof passwordResetRequestInput>,
): Promise<void> {
  const { email } = passwordResetRequestInput.parse(raw);
  try {
    const userId = await liveUserId(ctx, email);
    if (!userId) return;
    const issued = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      await lockAccount(tx, userId);
      return issueAccountCode(tx, audit, ctx.config.PASSWORD_PEPPER, {
        userId,
        purpose: "password_reset",
        email,
      });
    });
    await mailAccountCode(ctx.queue, "password_reset", email, issued);
  } catch (err) {
    ctx.logger.error("could not issue a password reset code", {
      error: errorMessage(err),
    });
  }
}

/** One answer for an unknown address, no live code, an expired code and a wrong one. */
const refused = () =>
  new ValidationFailed(
    [{ field: "code", in: "body", message: "is wrong or has expired; request a new code" }],
    "The code is wrong or has expired.",
  );

/**
 * Sets a new password with a mailed code. The code is single-use, expires after 15 minutes and
 * dies after five wrong tries; a success signs out every session and, since the code reached the
 * inbox, marks the address verified. Audited `user.password_reset`.
 */
export async function confirmPasswordReset(
  ctx: ServiceContext,
  raw: z.input<typeof passwordResetConfirmInput>,
): Promise<void> {
  const input = passwordResetConfirmInput.parse(raw);
  // Hashed first, whether or not the account exists: the slow step costs every answer the same.
  const passwordHash = await hashPassword(
    input.newPassword,
    ctx.config.PASSWORD_PEPPER,
    ctx.config.PBKDF2_ITERATIONS,
  );
  const userId = await liveUserId(ctx, input.email);
  if (!userId) throw refused();
  // The code proves the holder: the audit names them, as a sign-in would.
  const actor = { ...ctx.actor, id: userId };
  const outcome = await withAudit(ctx.db, actor, async (tx, audit) => {
    const user = await lockAccount(tx, userId);
    const result = await consumeAccountCode(tx, audit, ctx.config.PASSWORD_PEPPER, {
      userId,
      purpose: "password_reset",
      code: input.code,
    });
    // Nothing was written: roll back and refuse. A wrong try returns, so its count commits.
    if (result.kind === "missing" || result.kind === "expired") throw refused();
    if (result.kind === "wrong") return result;
    // Mailed to an address the account has since left: that mailbox proves nothing now.
    if (result.code.email !== user.email) throw refused();
    const now = new Date();
    await tx
      .update(credentials)
      .set({ passwordHash, updatedAt: now })
      .where(eq(credentials.userId, userId));
    if (!user.emailVerifiedAt) {
      await tx
        .update(users)
        .set({ emailVerifiedAt: now, updatedAt: now })
        .where(eq(users.id, userId));
    }
    await revokeAllSessions(tx, userId);
    await audit.record({
      action: "user.password_reset",
      entityType: "user",
      entityId: userId,
      newValue: { codeId: result.code.id, sessionsRevoked: true },
    });
    return result;
  });
  if (outcome.kind === "wrong") throw refused();
}
