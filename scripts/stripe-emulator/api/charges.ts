/** Charges (made by confirming a PaymentIntent; read-only in the API) and disputes on them. */
import { type ApiContext, type EmulatorCore, HELPER_REQUEST, type RequestInfo } from "../core.ts";
import { invalidRequest } from "../errors.ts";
import { newId, unixNow } from "../ids.ts";
import { LIST_PARAMS, paginate } from "../list.ts";
import type {
  ChargeObject,
  DisputeObject,
  ListObject,
  PaymentIntentObject,
  PaymentMethodObject,
} from "../objects.ts";
import {
  allowParams,
  applyMetadata,
  createdFilter,
  optNullableString,
  optString,
} from "../params.ts";
import { EMPTY_BILLING } from "./payment-methods.ts";

export type ChargeResult =
  | { status: "succeeded" }
  | { status: "failed"; code: string; declineCode: string; message: string };

/** The Charge a confirmation makes: `succeeded`, or `failed` with the issuer's reason. */
export function createCharge(
  core: EmulatorCore,
  pi: PaymentIntentObject,
  pm: PaymentMethodObject,
  result: ChargeResult,
  account: string | null,
): ChargeObject {
  const ok = result.status === "succeeded";
  const charge: ChargeObject = {
    id: newId("ch"),
    object: "charge",
    amount: pi.amount,
    amount_captured: ok ? pi.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: pi.application_fee_amount,
    balance_transaction: ok ? newId("txn") : null,
    billing_details: structuredClone(EMPTY_BILLING),
    calculated_statement_descriptor: "SOUK",
    captured: ok,
    created: unixNow(),
    currency: pi.currency,
    customer: pi.customer,
    description: pi.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: ok ? null : result.code,
    failure_message: ok ? null : result.message,
    fraud_details: {},
    livemode: false,
    metadata: { ...pi.metadata },
    on_behalf_of: pi.on_behalf_of,
    outcome: ok
      ? {
          advice_code: null,
          network_advice_code: null,
          network_decline_code: null,
          network_status: "approved_by_network",
          reason: null,
          risk_level: "normal",
          risk_score: 20,
          seller_message: "Payment complete.",
          type: "authorized",
        }
      : {
          advice_code: null,
          network_advice_code: null,
          network_decline_code: null,
          network_status: "declined_by_network",
          reason: result.declineCode,
          risk_level: "normal",
          risk_score: 20,
          seller_message: "The bank did not return any further details with this decline.",
          type: "issuer_declined",
        },
    paid: ok,
    payment_intent: pi.id,
    payment_method: pm.id,
    payment_method_details: { type: "card", card: structuredClone(pm.card) },
    receipt_email: pi.receipt_email,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: pi.statement_descriptor,
    statement_descriptor_suffix: pi.statement_descriptor_suffix,
    status: ok ? "succeeded" : "failed",
    transfer_data: pi.transfer_data
      ? { destination: pi.transfer_data.destination, amount: pi.transfer_data.amount ?? null }
      : null,
    transfer_group: pi.transfer_group,
  };
  return core.state.charges.add(charge, account);
}

export function retrieveCharge(ctx: ApiContext): ChargeObject {
  allowParams(ctx.params, []);
  return ctx.core.state.charges.require(ctx.path.id ?? "", ctx.account);
}

export function listCharges(ctx: ApiContext): ListObject<ChargeObject> {
  allowParams(ctx.params, [...LIST_PARAMS, "payment_intent", "transfer_group", "customer"]);
  const pi = optString(ctx.params, "payment_intent");
  const group = optString(ctx.params, "transfer_group");
  const inRange = createdFilter(ctx.params);
  const items = ctx.core.state.charges.list(
    ctx.account,
    (c) =>
      (!pi || c.payment_intent === pi) &&
      (!group || c.transfer_group === group) &&
      inRange(c.created),
  );
  return paginate(items, ctx.params, "/v1/charges");
}

export function updateCharge(ctx: ApiContext): ChargeObject {
  allowParams(ctx.params, ["metadata", "description", "receipt_email"]);
  const charge = ctx.core.state.charges.require(ctx.path.id ?? "", ctx.account);
  charge.metadata = applyMetadata(ctx.params, charge.metadata);
  const description = optNullableString(ctx.params, "description");
  if (description !== undefined) charge.description = description;
  const email = optNullableString(ctx.params, "receipt_email");
  if (email !== undefined) charge.receipt_email = email;
  return charge;
}

const DISPUTE_REASONS = [
  "fraudulent",
  "product_not_received",
  "product_unacceptable",
  "duplicate",
  "subscription_canceled",
  "credit_not_processed",
  "general",
  "unrecognized",
] as const;

/**
 * Test helper: the cardholder disputes a succeeded charge. Emits `charge.dispute.created` in the
 * charge's scope (a platform event for platform charges).
 */
export function openDispute(
  core: EmulatorCore,
  chargeId: string,
  account: string | null,
  opts: { reason?: string; amount?: number } = {},
  request: RequestInfo = HELPER_REQUEST,
): DisputeObject {
  const charge = core.state.charges.require(chargeId, account);
  if (charge.status !== "succeeded") {
    throw invalidRequest(
      `Charge ${charge.id} did not succeed; only a paid charge can be disputed.`,
    );
  }
  if (charge.disputed) throw invalidRequest(`Charge ${charge.id} is already disputed.`);
  const reason = opts.reason ?? "fraudulent";
  if (!DISPUTE_REASONS.some((r) => r === reason)) {
    throw invalidRequest(`Invalid reason: must be one of ${DISPUTE_REASONS.join(", ")}`, {
      param: "reason",
    });
  }
  const amount = opts.amount ?? charge.amount - charge.amount_refunded;
  const now = unixNow();
  const dispute: DisputeObject = {
    id: newId("dp"),
    object: "dispute",
    amount,
    balance_transactions: [],
    charge: charge.id,
    created: now,
    currency: charge.currency,
    enhanced_eligibility_types: [],
    evidence: {},
    evidence_details: {
      due_by: now + 7 * 24 * 3600,
      has_evidence: false,
      past_due: false,
      submission_count: 0,
    },
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: charge.payment_intent,
    reason,
    status: "needs_response",
  };
  core.state.disputes.add(dispute, account);
  charge.disputed = true;
  core.emit({ type: "charge.dispute.created", object: dispute, account, request });
  return dispute;
}

/** Test helper: the dispute is decided (`won` or `lost`); emits `charge.dispute.closed`. */
export function closeDispute(
  core: EmulatorCore,
  disputeId: string,
  account: string | null,
  status: "won" | "lost",
): DisputeObject {
  const dispute = core.state.disputes.require(disputeId, account);
  if (dispute.status === "won" || dispute.status === "lost") {
    throw invalidRequest(`Dispute ${dispute.id} is already closed (${dispute.status}).`);
  }
  const previous = { status: dispute.status };
  dispute.status = status;
  core.emit({
    type: "charge.dispute.closed",
    object: dispute,
    account,
    previousAttributes: previous,
    request: HELPER_REQUEST,
  });
  return dispute;
}

export function retrieveDispute(ctx: ApiContext): DisputeObject {
  allowParams(ctx.params, []);
  return ctx.core.state.disputes.require(ctx.path.id ?? "", ctx.account);
}

export function listDisputes(ctx: ApiContext): ListObject<DisputeObject> {
  allowParams(ctx.params, [...LIST_PARAMS, "charge", "payment_intent"]);
  const charge = optString(ctx.params, "charge");
  const pi = optString(ctx.params, "payment_intent");
  const inRange = createdFilter(ctx.params);
  const items = ctx.core.state.disputes.list(
    ctx.account,
    (d) =>
      (!charge || d.charge === charge) && (!pi || d.payment_intent === pi) && inRange(d.created),
  );
  return paginate(items, ctx.params, "/v1/disputes");
}
