import { and, eq, isNull, ne } from "drizzle-orm";
import { z } from "zod";
import { type AuditRecorder, withAudit } from "../../db/audit.ts";
import type { Tx } from "../../db/client.ts";
import type { AccountCodePurpose } from "../../db/schema/account-codes.ts";
import { credentials } from "../../db/schema/credentials.ts";
import { type User, users } from "../../db/schema/users.ts";
import { errorMessage } from "../../lib/errors.ts";
import {
  ACCOUNT_CODE_TTL_MS,
  consumeAccountCode,
  issueAccountCode,
  lockAccount,
  mailAccountCode,
} from "../auth/account-codes.ts";
import { loginInput } from "../auth/login.ts";
import { maskDestination, oneTimeCode, wrongCodeError } from "../auth/one-time-code.ts";
import { verifyPassword } from "../auth/password.ts";
import { isUniqueViolation, type ServiceContext } from "../context.ts";
import { Conflict, ServiceUnavailable, ValidationFailed } from "../errors.ts";
import { type NotificationQueue, notifyAfterCommit } from "../notifications/notify.ts";
import { type PublicUser, toPublicUser } from "./public-user.ts";

export const emailCodeInput = z.object({ code: oneTimeCode });
export const emailChangeInput = z.object({
  newEmail: loginInput.shape.email,
  currentPassword: z.string().min(1).max(256),
});

export interface SentCode {
  sentTo: string;
  expiresAt: string;
}

async function send(
  ctx: ServiceContext,
  queue: NotificationQueue,
  purpose: AccountCodePurpose,
  to: string,
  issued: Parameters<typeof mailAccountCode>[3],
): Promise<SentCode> {
  try {
    await mailAccountCode(queue, purpose, to, issued);
  } catch (err) {
    ctx.logger.error("could not enqueue an account code", {
      purpose,
      error: errorMessage(err),
    });
    throw new ServiceUnavailable("The code could not be sent; ask for a new one shortly.");
  }
  return { sentTo: maskDestination(to), expiresAt: issued.expiresAt.toISOString() };
}

/** Mails a code proving the account's current address; 409 once it is verified. Audited. */
export async function requestEmailVerification(
  ctx: ServiceContext,
  userId: string,
): Promise<SentCode> {
  const { email, issued } = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const user = await lockAccount(tx, userId);
    if (user.emailVerifiedAt) throw new Conflict("Your email address is already verified.");
    const purpose = "email_verification";
    const code = await issueAccountCode(tx, audit, ctx.config.PASSWORD_PEPPER, {
      userId,
      purpose,
      email: user.email,
    });
    return { email: user.email, issued: code };
  });
  return send(ctx, ctx.queue, "email_verification", email, issued);
}

type Checked = { ok: true; user: PublicUser } | { ok: false; remaining: number };

/**
 * Checks a code of `purpose` and, when right, applies it in the same transaction. Wrong tries
 * are counted and committed before the 422; a missing or expired code is a 409.
 */
async function confirmCode(
  ctx: ServiceContext,
  userId: string,
  purpose: AccountCodePurpose,
  code: string,
  apply: (
    tx: Tx,
    audit: AuditRecorder,
    target: { email: string; codeId: string; before: User },
  ) => Promise<PublicUser>,
): Promise<PublicUser> {
  const outcome = await withAudit<Checked>(ctx.db, ctx.actor, async (tx, audit) => {
    const before = await lockAccount(tx, userId);
    const result = await consumeAccountCode(tx, audit, ctx.config.PASSWORD_PEPPER, {
      userId,
      purpose,
      code,
    });
    if (result.kind === "missing") {
      throw new Conflict("There is no active code; request a new one.");
    }
    if (result.kind === "expired") throw new Conflict("The code has expired; request a new one.");
    if (result.kind === "wrong") return { ok: false, remaining: result.remaining };
    const target = { email: result.code.email, codeId: result.code.id, before };
    return { ok: true, user: await apply(tx, audit, target) };
  });
  if (!outcome.ok) throw wrongCodeError(outcome.remaining);
  return outcome.user;
}

/** Marks the account's address verified with the mailed code. Audited `user.email_verified`. */
export async function confirmEmailVerification(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof emailCodeInput>,
): Promise<PublicUser> {
  const { code } = emailCodeInput.parse(raw);
  return confirmCode(ctx, userId, "email_verification", code, async (tx, audit, target) => {
    // The code was bound to the address it went to; an address changed since proves nothing.
    if (target.email !== target.before.email) {
      throw new Conflict("Your email address changed since this code was sent; request a new one.");
    }
    const now = new Date();
    const [after] = await tx
      .update(users)
      .set({ emailVerifiedAt: now, updatedAt: now })
      .where(eq(users.id, userId))
      .returning();
    if (!after) throw new Error("the locked user vanished");
    await audit.record({
      action: "user.email_verified",
      entityType: "user",
      entityId: userId,
      newValue: { email: after.email, codeId: target.codeId },
    });
    return toPublicUser(after);
  });
}

/**
 * Starts an email change: checks the password and mails a code to the new address, which
 * becomes the account's email only when that code is confirmed. An address another account
 * holds gets the same answer and no code (a notice instead), so the route cannot be used to
 * learn who has an account.
 */
export async function requestEmailChange(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof emailChangeInput>,
): Promise<SentCode> {
  const { newEmail, currentPassword } = emailChangeInput.parse(raw);
  const outcome = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const user = await lockAccount(tx, userId);
    const [cred] = await tx.select().from(credentials).where(eq(credentials.userId, userId));
    const ok =
      cred &&
      (await verifyPassword(currentPassword, ctx.config.PASSWORD_PEPPER, cred.passwordHash));
    if (!ok) {
      throw new ValidationFailed([{ field: "currentPassword", in: "body", message: "is wrong" }]);
    }
    if (newEmail === user.email) {
      throw new ValidationFailed([
        { field: "newEmail", in: "body", message: "is already your email" },
      ]);
    }
    const [taken] = await tx
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.email, newEmail), isNull(users.deletedAt), ne(users.id, userId)));
    if (taken) {
      await audit.record({
        action: "user.email_change_refused",
        entityType: "user",
        entityId: userId,
        newValue: { reason: "address in use" },
      });
      return { taken: true as const };
    }
    const issued = await issueAccountCode(tx, audit, ctx.config.PASSWORD_PEPPER, {
      userId,
      purpose: "email_change",
      email: newEmail,
    });
    return { taken: false as const, issued };
  });
  if (!outcome.taken) return send(ctx, ctx.queue, "email_change", newEmail, outcome.issued);
  await notifyAfterCommit(ctx.queue, ctx.logger, {
    kind: "account.email_in_use",
    title: "Someone tried to use this address on Souk",
    body: "An account asked to move to this address, which another Souk account already uses.",
    dedupeKey: `email-in-use:${userId}:${newEmail}:${Math.floor(Date.now() / ACCOUNT_CODE_TTL_MS)}`,
    email: {
      to: newEmail,
      subject: "This address already has a Souk account",
      text:
        "Someone asked to make this address the email of a Souk account, but an account already " +
        "uses it, so nothing changed. If it was you, sign in with this address instead.",
    },
  });
  return {
    sentTo: maskDestination(newEmail),
    expiresAt: new Date(Date.now() + ACCOUNT_CODE_TTL_MS).toISOString(),
  };
}

/**
 * Completes an email change with the code mailed to the new address: it becomes the account's
 * email, verified. Audited `user.email_changed` (old and new); the old address is told. 409 if
 * another account took the address meanwhile.
 */
export async function confirmEmailChange(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof emailCodeInput>,
): Promise<PublicUser> {
  const { code } = emailCodeInput.parse(raw);
  let oldEmail = "";
  let user: PublicUser;
  try {
    user = await confirmCode(ctx, userId, "email_change", code, async (tx, audit, target) => {
      oldEmail = target.before.email;
      const now = new Date();
      const [after] = await tx
        .update(users)
        .set({ email: target.email, emailVerifiedAt: now, updatedAt: now })
        .where(eq(users.id, userId))
        .returning();
      if (!after) throw new Error("the locked user vanished");
      await audit.record({
        action: "user.email_changed",
        entityType: "user",
        entityId: userId,
        oldValue: { email: oldEmail, emailVerifiedAt: target.before.emailVerifiedAt },
        newValue: { email: after.email, emailVerifiedAt: now.toISOString(), codeId: target.codeId },
      });
      return toPublicUser(after);
    });
  } catch (err) {
    if (isUniqueViolation(err, "users_email_live_key")) {
      throw new Conflict("Another account took this address meanwhile; the change was not made.");
    }
    throw err;
  }
  await notifyAfterCommit(ctx.queue, ctx.logger, {
    kind: "account.email_changed",
    title: "Your Souk email was changed",
    body: `Your account's email is now ${maskDestination(user.email)}.`,
    dedupeKey: `email-changed:${userId}:${user.email}`,
    email: {
      to: oldEmail,
      subject: "Your Souk email was changed",
      text:
        `Your Souk account's email was changed to ${maskDestination(user.email)}. ` +
        "If you did not do this, reset your password and contact support.",
    },
  });
  return user;
}
