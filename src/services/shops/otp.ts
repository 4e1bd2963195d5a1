import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import type { Tx } from "../../db/client.ts";
import { type Shop, shopOtps, shops } from "../../db/schema/shops.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { enforceLimit } from "../../lib/rate-limit.ts";
import type { Redis } from "../../lib/redis.ts";
import { isUniqueViolation, type ServiceContext } from "../context.ts";
import { Conflict, NotFound, ServiceUnavailable, ValidationFailed } from "../errors.ts";
import { type NotificationQueue, notify } from "../notifications/notify.ts";
import { requireShopPermission } from "./access.ts";
import { managedView, type ShopManagedView } from "./views.ts";

export const OTP_TTL_MS = 10 * 60 * 1000;
export const OTP_MAX_ATTEMPTS = 5;

export type OtpPurpose = "email" | "phone";
export const issueOtpInput = z.object({ purpose: z.enum(["email", "phone"]) });
export const verifyOtpInput = z.object({
  purpose: z.enum(["email", "phone"]),
  code: z.string().regex(/^\d{6}$/, "must be the 6-digit code"),
});

const CODE_SPACE = 1_000_000;
// The largest multiple of 10^6 that fits in 32 bits: below it, n % 10^6 is uniform.
const UNBIASED_LIMIT = 2 ** 32 - (2 ** 32 % CODE_SPACE);

/** A uniformly random 6-digit code: rejection sampling, so no digit pattern is likelier. */
export function generateOtpCode(): string {
  const buf = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(buf);
    const n = buf[0] ?? UNBIASED_LIMIT;
    if (n < UNBIASED_LIMIT) return String(n % CODE_SPACE).padStart(6, "0");
  }
}

/**
 * HMAC-SHA256 of the code, keyed by the server's pepper and bound to the code's id, shop and
 * purpose: a stolen table cannot be brute-forced offline (10^6 codes) without the secret, and
 * a hash cannot be replayed against another shop or purpose.
 */
export async function hashOtp(
  secret: string,
  otp: { id: string; shopId: string; purpose: OtpPurpose },
  code: string,
): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    enc.encode(`souk-otp:v1:${otp.id}:${otp.shopId}:${otp.purpose}:${code}`),
  );
  return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("");
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
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

/** `a***@example.com`, `+35191****678`: enough to recognise, not enough to harvest. */
export function maskDestination(to: string): string {
  const at = to.indexOf("@");
  if (at > 0) return `${to[0]}***${to.slice(at)}`;
  return `${to.slice(0, 6)}${"*".repeat(Math.max(0, to.length - 9))}${to.slice(-3)}`;
}

export interface OtpDeps {
  queue: NotificationQueue;
  redis: Redis | null;
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
  deps: OtpDeps,
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
  await enforceLimit(deps.redis, "otp.issue", `shop:${shopId}`);
  const code = generateOtpCode();
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
    await notify(deps.queue, {
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
      error: err instanceof Error ? err.message : String(err),
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
  deps: Pick<OtpDeps, "redis">,
  userId: string,
  shopId: string,
  raw: z.input<typeof verifyOtpInput>,
): Promise<ShopManagedView> {
  const { purpose, code } = verifyOtpInput.parse(raw);
  const { role } = await requireShopPermission(ctx.db, shopId, userId, "shop.manage");
  await enforceLimit(deps.redis, "otp.verify", `shop:${shopId}`);
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
    if (otp.expiresAt.getTime() <= now.getTime()) {
      throw new Conflict("The code has expired; request a new one.");
    }
    const expected = await hashOtp(ctx.config.PASSWORD_PEPPER, otp, code);
    if (!constantTimeEqual(expected, otp.codeHash)) {
      const failedAttempts = otp.failedAttempts + 1;
      const exhausted = failedAttempts >= OTP_MAX_ATTEMPTS;
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
      return { ok: false, remaining: OTP_MAX_ATTEMPTS - failedAttempts };
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
  if (!outcome.ok) {
    const message =
      outcome.remaining > 0
        ? `is wrong; ${outcome.remaining} ${outcome.remaining === 1 ? "try" : "tries"} left`
        : "is wrong; the code is now void, request a new one";
    throw new ValidationFailed([{ field: "code", in: "body", message }], "The code is wrong.");
  }
  return managedView(outcome.shop, role);
}
