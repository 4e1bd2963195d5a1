import { and, eq, isNull } from "drizzle-orm";
import type { AuditRecorder } from "../../db/audit.ts";
import type { Tx } from "../../db/client.ts";
import {
  type AccountCode,
  type AccountCodePurpose,
  accountCodes,
} from "../../db/schema/account-codes.ts";
import { users } from "../../db/schema/users.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { NotFound } from "../errors.ts";
import { type NotificationQueue, notify } from "../notifications/notify.ts";
import { checkOneTimeCode, generateOneTimeCode, hashOneTimeCode } from "./one-time-code.ts";

/** Long enough to switch to a mail app and back; short enough that a leaked mail soon is moot. */
export const ACCOUNT_CODE_TTL_MS = 15 * 60 * 1000;

const live = (userId: string, purpose: AccountCodePurpose) =>
  and(
    eq(accountCodes.userId, userId),
    eq(accountCodes.purpose, purpose),
    isNull(accountCodes.consumedAt),
    isNull(accountCodes.voidedAt),
  );

// The address is in the binding: a code mailed to one address proves nothing about another.
const binding = (c: Pick<AccountCode, "id" | "userId" | "purpose" | "email">) => [
  c.id,
  c.userId,
  c.purpose,
  c.email,
];

/** Locks a live account for the rest of the transaction: its codes change one request at a time. */
export async function lockAccount(tx: Tx, userId: string) {
  const [user] = await tx
    .select()
    .from(users)
    .where(and(eq(users.id, userId), isNull(users.deletedAt)))
    .for("update");
  if (!user) throw new NotFound("user", userId);
  return user;
}

export interface IssuedAccountCode {
  id: string;
  code: string;
  expiresAt: Date;
}

/**
 * Issues a code for `purpose`, to be mailed to `email`, inside the caller's transaction with the
 * account row locked (`lockAccount`): the live code, if any, is voided, so only the newest mail
 * works. Only the HMAC is stored; the code is returned once, for the mail. Audited.
 */
export async function issueAccountCode(
  tx: Tx,
  audit: AuditRecorder,
  secret: string,
  input: { userId: string; purpose: AccountCodePurpose; email: string },
): Promise<IssuedAccountCode> {
  const now = new Date();
  const voided = await tx
    .update(accountCodes)
    .set({ voidedAt: now })
    .where(live(input.userId, input.purpose))
    .returning({ id: accountCodes.id });
  const id = uuidv7();
  const code = generateOneTimeCode();
  const expiresAt = new Date(now.getTime() + ACCOUNT_CODE_TTL_MS);
  const codeHash = await hashOneTimeCode(secret, binding({ id, ...input }), code);
  await tx.insert(accountCodes).values({ id, ...input, codeHash, expiresAt });
  await audit.record({
    action: "user.code_issued",
    entityType: "user",
    entityId: input.userId,
    newValue: {
      codeId: id,
      purpose: input.purpose,
      expiresAt: expiresAt.toISOString(),
      voided: voided.map((v) => v.id),
    },
  });
  return { id, code, expiresAt };
}

export type AccountCodeOutcome =
  | { kind: "ok"; code: AccountCode }
  | { kind: "missing" }
  | { kind: "expired" }
  | { kind: "wrong"; remaining: number };

/**
 * Checks a code against the account's live one for `purpose`, inside the caller's transaction
 * with the account locked. Right: the code is consumed (single use). Wrong: the try is counted
 * and audited, and the fifth voids the code; the caller must let that commit before it answers.
 */
export async function consumeAccountCode(
  tx: Tx,
  audit: AuditRecorder,
  secret: string,
  input: { userId: string; purpose: AccountCodePurpose; code: string },
): Promise<AccountCodeOutcome> {
  const [row] = await tx
    .select()
    .from(accountCodes)
    .where(live(input.userId, input.purpose))
    .for("update");
  if (!row) return { kind: "missing" };
  const now = new Date();
  const check = await checkOneTimeCode(secret, row, binding(row), input.code, now);
  if (check.kind === "expired") return check;
  if (check.kind === "wrong") {
    const { failedAttempts, exhausted } = check;
    await tx
      .update(accountCodes)
      .set({ failedAttempts, voidedAt: exhausted ? now : null })
      .where(eq(accountCodes.id, row.id));
    await audit.record({
      action: "user.code_failed",
      entityType: "user",
      entityId: input.userId,
      newValue: { codeId: row.id, purpose: row.purpose, failedAttempts, voided: exhausted },
    });
    return { kind: "wrong", remaining: check.remaining };
  }
  await tx.update(accountCodes).set({ consumedAt: now }).where(eq(accountCodes.id, row.id));
  return { kind: "ok", code: row };
}

const MAIL: Record<AccountCodePurpose, { subject: string; what: string; ignore: string }> = {
  password_reset: {
    subject: "Your Souk password reset code",
    what: "password reset code",
    ignore: "your password stays as it is",
  },
  email_verification: {
    subject: "Your Souk email verification code",
    what: "code to verify this address",
    ignore: "nothing changes",
  },
  email_change: {
    subject: "Your Souk email change code",
    what: "code to make this address your account's email",
    ignore: "your account keeps its current address",
  },
};

/**
 * Mails an issued code to the address it is bound to. Email only, never an in-app row: that
 * would show the code to whoever holds a session. Dead letters redact the text (it holds it).
 */
export async function mailAccountCode(
  queue: NotificationQueue,
  purpose: AccountCodePurpose,
  to: string,
  issued: IssuedAccountCode,
): Promise<void> {
  const m = MAIL[purpose];
  await notify(queue, {
    kind: `account.${purpose}`,
    title: m.subject,
    body: "A code was sent.",
    dedupeKey: `account-code:${issued.id}`,
    email: {
      to,
      // Not in the subject: dead letters redact the text, not the subject.
      subject: m.subject,
      text:
        `Your Souk ${m.what} is ${issued.code}. It expires in 15 minutes and works once. ` +
        `If you did not ask for it, ignore this message: ${m.ignore}.`,
    },
  });
}
