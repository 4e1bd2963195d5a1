import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import type { Tx } from "../../db/client.ts";
import { type Shop, shopOtps, shops } from "../../db/schema/shops.ts";
import { errorMessage } from "../../lib/errors.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { enforceLimit } from "../../lib/rate-limit.ts";
import {
  checkOneTimeCode,
  generateOneTimeCode,
  hashOneTimeCode,
  maskDestination,
  ONE_TIME_CODE_MAX_ATTEMPTS,
  oneTimeCode,
  wrongCodeError,
} from "../auth/one-time-code.ts";
import { isUniqueViolation, type ServiceContext } from "../context.ts";
import { Conflict, NotFound, ServiceUnavailable } from "../errors.ts";
import { notify } from "../notifications/notify.ts";
import { requireShopPermission } from "./access.ts";
import { managedView, type ShopManagedView } from "./views.ts";

export const OTP_TTL_MS = 10 * 60 * 1000;
export const OTP_MAX_ATTEMPTS = ONE_TIME_CODE_MAX_ATTEMPTS;

export type OtpPurpose = "email" | "phone";
export const issueOtpInput = z.object({ purpose: z.enum(["email", "phone"]) });
export const verifyOtpInput = z.object({
  purpose: z.enum(["email", "phone"]),
  code: oneTimeCode,
});

export { generateOneTimeCode as generateOtpCode, maskDestination };

/** The shared one-time-code HMAC, bound to the code's id, shop and purpose. */
export function hashOtp(
  secret: string,
  otp: { id: string; shopId: string; purpose: OtpPurpose },
  code: string,
): Promise<string> {
  return hashOneTimeCode(secret, [otp.id, otp.shopId, otp.purpose], code);
}

const activeOtp = (shopId: string, purpose: OtpPurpose) =>
  and(
    eq(shopOtps.shopId, shopId),
    eq(shopOtps.purpose, purpose),
    isNull(shopOtps.consumedAt),
    isNull(shopOtps.voidedAt),
  );

const verifiedAt = (shop: Shop, purpose: OtpPurpose) =>
  purpose === "email" ? shop.emailVerifiedAt : shop.phoneVerifiedAt;

async function lockShop(tx: Tx, shopId: string): Promise<Shop> {
  const [shop] = await tx
    .select()
    .from(shops)
    .where(and(eq(shops.id, shopId), isNull(shops.deletedAt)))
    .for("update");
  if (!shop) throw new NotFound("shop", shopId);
  return shop;
}

export interface IssuedOtp {
  purpose: OtpPurpose;
  sentTo: string;
  expiresAt: string;
}

/**
 * Issues a code proving the shop's contact email or phone. Owner only. The shop row is locked,
 * the live code (if any) voided and the new one inserted in one transaction, so concurrent
 * requests leave exactly one active code (the partial unique index backs this). Only the hash
 * is stored; the code travels once, through the notifications queue.
 */
export async function issueShopOtp(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  raw: z.input<typeof issueOtpInput>,
): Promise<IssuedOtp> {
  const { purpose } = issueOtpInput.parse(raw);
  // Permission before the per-shop limit, so a stranger cannot spend the owner's budget.
  await requireShopPermission(ctx.db, shopId, userId, "shop.manage");
  if (purpose === "phone" && ctx.config.ENVIRONMENT === "production") {
    throw new ServiceUnavailable("No SMS provider is configured; phone verification is off.");
  }
  await enforceLimit(ctx.redis, "otp.issue", `shop:${shopId}`);
  const code = generateOneTimeCode();
  let issued: { id: string; shop: Shop; expiresAt: Date };
  try {
    issued = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      const shop = await lockShop(tx, shopId);
      if (verifiedAt(shop, purpose)) {
        throw new Conflict(`The shop's contact ${purpose} is already verified.`);
      }
      const now = new Date();
      const voided = await tx
        .update(shopOtps)
        .set({ voidedAt: now })
        .where(activeOtp(shopId, purpose))
        .returning({ id: shopOtps.id });
      const id = uuidv7();
      const expiresAt = new Date(now.getTime() + OTP_TTL_MS);
      const codeHash = await hashOtp(ctx.config.PASSWORD_PEPPER, { id, shopId, purpose }, code);
      await tx.insert(shopOtps).values({ id, shopId, purpose, codeHash, expiresAt });
      await audit.record({
        action: "shop.otp.issued",
        entityType: "shop",
        entityId: shopId,
        newValue: {
          otpId: id,
          purpose,
          expiresAt: expiresAt.toISOString(),
          voided: voided.map((v) => v.id),
        },
      });
      return { id, shop, expiresAt };
    });
  } catch (err) {
    if (isUniqueViolation(err, "shop_otps_one_active_key")) {
      throw new Conflict("Another code was issued at the same moment; ask again.");
    }
    throw err;
  }
  const { shop, expiresAt } = issued;
  const to = purpose === "email" ? shop.contactEmail : shop.contactPhone;
  const text =
    `Your Souk verification code for ${shop.name} is ${code}. It expires in 10 minutes. ` +
    "If you did not ask for it, ignore this message.";
  try {
    await notify(ctx.queue, {
      kind: "shop.otp",
      title: `Verify the contact ${purpose} of ${shop.name}`,
      // No userId: the code goes to the shop's contact address only, never to an in-app row.
      body: "A verification code was sent.",
      data: { shopId, purpose },
      dedupeKey: `shop-otp:${issued.id}`,
      ...(purpose === "email"
        ? { email: { to, subject: `Your Souk verification code: ${code}`, text } }
        : { sms: { to, text } }),
    });
  } catch (err) {
    ctx.logger.error("could not enqueue an OTP", {
      shopId,
      error: errorMessage(err),
    });
    throw new ServiceUnavailable("The code could not be sent; ask for a new one shortly.");
  }
  return { purpose, sentTo: maskDestination(to), expiresAt: expiresAt.toISOString() };
}

type VerifyOutcome = { ok: true; shop: Shop } | { ok: false; remaining: number };

/**
 * Checks a code. Right: the code is consumed and the shop's email or phone marked verified.
 * Wrong: the try is counted (the row is locked, so concurrent guesses count too) and the fifth
 * wrong try voids the code. Expired, voided or used codes are refused with CONFLICT.
 */
export async function verifyShopOtp(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  raw: z.input<typeof verifyOtpInput>,
): Promise<ShopManagedView> {
  const { purpose, code } = verifyOtpInput.parse(raw);
  const { role } = await requireShopPermission(ctx.db, shopId, userId, "shop.manage");
  await enforceLimit(ctx.redis, "otp.verify", `shop:${shopId}`);
  // A wrong try must commit its counter, so the transaction returns the outcome and the
  // error is thrown only after it has committed.
  const outcome = await withAudit<VerifyOutcome>(ctx.db, ctx.actor, async (tx, audit) => {
    const shop = await lockShop(tx, shopId);
    const [otp] = await tx.select().from(shopOtps).where(activeOtp(shopId, purpose)).for("update");
    if (!otp) {
      if (verifiedAt(shop, purpose)) {
        throw new Conflict(`The shop's contact ${purpose} is already verified.`);
      }
      throw new Conflict(`There is no active ${purpose} code for this shop; request a new one.`);
    }
    const now = new Date();
    const check = await checkOneTimeCode(
      ctx.config.PASSWORD_PEPPER,
      otp,
      [otp.id, otp.shopId, otp.purpose],
      code,
      now,
    );
    if (check.kind === "expired") throw new Conflict("The code has expired; request a new one.");
    if (check.kind === "wrong") {
      const { failedAttempts, exhausted } = check;
      await tx
        .update(shopOtps)
        .set({ failedAttempts, voidedAt: exhausted ? now : null })
        .where(eq(shopOtps.id, otp.id));
      await audit.record({
        action: "shop.otp.failed",
        entityType: "shop",
        entityId: shopId,
        newValue: { otpId: otp.id, purpose, failedAttempts, voided: exhausted },
      });
      return { ok: false, remaining: check.remaining };
    }
    await tx.update(shopOtps).set({ consumedAt: now }).where(eq(shopOtps.id, otp.id));
    const field = purpose === "email" ? "emailVerifiedAt" : "phoneVerifiedAt";
    const [updated] = await tx
      .update(shops)
      .set({ [field]: now, updatedAt: now })
      .where(eq(shops.id, shopId))
      .returning();
    if (!updated) throw new NotFound("shop", shopId);
    await audit.record({
      action: `shop.${purpose}_verified`,
      entityType: "shop",
      entityId: shopId,
      oldValue: { [field]: null },
      newValue: { [field]: now.toISOString(), otpId: otp.id },
    });
    return { ok: true, shop: updated };
  });
  if (!outcome.ok) throw wrongCodeError(outcome.remaining);
  return managedView(outcome.shop, role);
}
