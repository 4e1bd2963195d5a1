/** Refunds of a succeeded charge, whole or in parts; each emits `charge.refunded` and `refund.created`. */
import type { ApiContext, EmulatorCore, RequestInfo } from "../core.ts";
import { invalidParam, invalidRequest } from "../errors.ts";
import { formatAmount, newId, unixNow } from "../ids.ts";
import { LIST_PARAMS, paginate } from "../list.ts";
import type { ChargeObject, ListObject, RefundObject } from "../objects.ts";
import {
  allowParams,
  applyMetadata,
  createdFilter,
  type Metadata,
  optBool,
  optEnum,
  optInt,
  optString,
} from "../params.ts";
import { reverseTransfer } from "./transfers.ts";

const REASONS = ["duplicate", "fraudulent", "requested_by_customer"] as const;

export interface RefundInput {
  amount?: number;
  reason?: string;
  metadata: Metadata;
  reverseTransfer: boolean;
  instructionsEmail?: string;
}

/** The charge a refund request points at: `charge`, or the PaymentIntent's successful charge. */
function chargeToRefund(
  core: EmulatorCore,
  chargeId: string | undefined,
  piId: string | undefined,
  account: string | null,
): ChargeObject {
  if (chargeId && piId) {
    throw invalidParam(
      "You cannot specify both charge and payment_intent. Please specify only one.",
      "payment_intent",
    );
  }
  if (chargeId) {
    const charge = core.state.charges.get(chargeId, account);
    if (!charge) {
      throw invalidRequest(`No such charge: '${chargeId}'`, {
        code: "resource_missing",
        param: "charge",
        status: 404,
      });
    }
    return charge;
  }
  if (!piId) {
    throw invalidParam(
      "One of the following params should be provided for this request: charge or payment_intent.",
      "charge",
      "parameter_missing",
    );
  }
  const pi = core.state.paymentIntents.get(piId, account);
  if (!pi) {
    throw invalidRequest(`No such payment_intent: '${piId}'`, {
      code: "resource_missing",
      param: "payment_intent",
      status: 404,
    });
  }
  const charge = pi.latest_charge ? core.state.charges.get(pi.latest_charge, account) : undefined;
  if (pi.status !== "succeeded" || !charge || charge.status !== "succeeded") {
    throw invalidRequest(
      `This PaymentIntent (${pi.id}) does not have a successful charge to refund.`,
      { param: "payment_intent" },
    );
  }
  return charge;
}

/** Refunds a charge as Stripe does, failing on a disputed, refunded or over-refunded charge. */
export function refundCharge(
  core: EmulatorCore,
  charge: ChargeObject,
  input: RefundInput,
  account: string | null,
  request: RequestInfo,
): RefundObject {
  if (charge.status !== "succeeded") {
    throw invalidRequest(`Charge ${charge.id} has not succeeded and cannot be refunded.`, {
      param: "charge",
    });
  }
  if (charge.disputed) {
    throw invalidRequest(
      `Charge ${charge.id} has been charged back; it cannot be refunded while disputed.`,
      { code: "charge_disputed", param: "charge" },
    );
  }
  const remaining = charge.amount - charge.amount_refunded;
  if (remaining <= 0) {
    throw invalidRequest(`Charge ${charge.id} has already been refunded.`, {
      code: "charge_already_refunded",
      param: "charge",
    });
  }
  const amount = input.amount ?? remaining;
  if (amount > remaining) {
    throw invalidRequest(
      `Refund amount (${formatAmount(amount, charge.currency)}) is greater than unrefunded amount on charge (${formatAmount(remaining, charge.currency)})`,
      { code: "amount_too_large", param: "amount" },
    );
  }
  const transfer =
    input.reverseTransfer && charge.transfer
      ? core.state.transfers.get(charge.transfer, account)
      : undefined;
  if (input.reverseTransfer && !transfer) {
    // Only a destination charge (PaymentIntent with transfer_data) has a transfer Stripe can
    // reverse for you; with separate charges and transfers, reverse each transfer explicitly.
    throw invalidRequest(
      `Charge ${charge.id} has no transfer to reverse (it was not made with transfer_data). Reverse the transfers with POST /v1/transfers/{id}/reversals instead.`,
      { param: "reverse_transfer" },
    );
  }
  const refund: RefundObject = {
    id: newId("re"),
    object: "refund",
    amount,
    balance_transaction: newId("txn"),
    charge: charge.id,
    created: unixNow(),
    currency: charge.currency,
    customer: null,
    customer_account: null,
    destination_details: { type: "card", card: { type: "refund", reference_status: "pending" } },
    ...(input.instructionsEmail ? { instructions_email: input.instructionsEmail } : {}),
    metadata: input.metadata,
    payment_intent: charge.payment_intent,
    payment_method: charge.payment_method,
    reason: input.reason ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: "succeeded",
    transfer_reversal: null,
  };
  core.state.refunds.add(refund, account);
  const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
  charge.amount_refunded += amount;
  charge.refunded = charge.amount_refunded >= charge.amount;
  if (transfer) {
    // Proportional to the share of the charge refunded, as Stripe documents reverse_transfer.
    const share = Math.min(
      transfer.amount - transfer.amount_reversed,
      Math.round((amount * transfer.amount) / charge.amount),
    );
    if (share > 0) {
      const reversal = reverseTransfer(
        core,
        transfer,
        { amount: share, sourceRefund: refund.id },
        account,
        request,
      );
      refund.transfer_reversal = reversal.id;
    }
  }
  core.emit({
    type: "charge.refunded",
    object: charge,
    account,
    previousAttributes: previous,
    request,
  });
  core.emit({ type: "refund.created", object: refund, account, request });
  return refund;
}

export function createRefund(ctx: ApiContext): RefundObject {
  const p = ctx.params;
  allowParams(p, [
    "payment_intent",
    "charge",
    "amount",
    "reason",
    "metadata",
    "reverse_transfer",
    "refund_application_fee",
    "instructions_email",
  ]);
  const amount = optInt(p, "amount", 1);
  const reason = optEnum(p, "reason", REASONS);
  const instructionsEmail = optString(p, "instructions_email");
  const input: RefundInput = {
    ...(amount === undefined ? {} : { amount }),
    ...(reason === undefined ? {} : { reason }),
    ...(instructionsEmail === undefined ? {} : { instructionsEmail }),
    metadata: applyMetadata(p),
    reverseTransfer: optBool(p, "reverse_transfer") ?? false,
  };
  optBool(p, "refund_application_fee");
  const charge = chargeToRefund(
    ctx.core,
    optString(p, "charge"),
    optString(p, "payment_intent"),
    ctx.account,
  );
  return refundCharge(ctx.core, charge, input, ctx.account, ctx.request);
}

export function retrieveRefund(ctx: ApiContext): RefundObject {
  allowParams(ctx.params, []);
  return ctx.core.state.refunds.require(ctx.path.id ?? "", ctx.account);
}

export function updateRefund(ctx: ApiContext): RefundObject {
  allowParams(ctx.params, ["metadata"]);
  const refund = ctx.core.state.refunds.require(ctx.path.id ?? "", ctx.account);
  refund.metadata = applyMetadata(ctx.params, refund.metadata);
  return refund;
}

export function listRefunds(ctx: ApiContext): ListObject<RefundObject> {
  allowParams(ctx.params, [...LIST_PARAMS, "charge", "payment_intent"]);
  const charge = optString(ctx.params, "charge");
  const pi = optString(ctx.params, "payment_intent");
  const inRange = createdFilter(ctx.params);
  const items = ctx.core.state.refunds.list(
    ctx.account,
    (r) =>
      (!charge || r.charge === charge) && (!pi || r.payment_intent === pi) && inRange(r.created),
  );
  return paginate(items, ctx.params, "/v1/refunds");
}
