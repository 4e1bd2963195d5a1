/**
 * Connect transfers ("separate charges and transfers") and their reversals. A transfer lands in
 * the connected account as a payment (`py_…`, the transfer's `destination_payment`).
 */
import type { ApiContext, EmulatorCore, RequestInfo } from "../core.ts";
import { invalidParam, invalidRequest } from "../errors.ts";
import { formatAmount, newId, unixNow } from "../ids.ts";
import { LIST_PARAMS, paginate } from "../list.ts";
import type {
  ChargeObject,
  ListObject,
  TransferObject,
  TransferReversalObject,
} from "../objects.ts";
import {
  allowParams,
  applyMetadata,
  createdFilter,
  type Metadata,
  optInt,
  optNullableString,
  optString,
  reqCurrency,
  reqInt,
  reqString,
} from "../params.ts";
import { EMPTY_BILLING } from "./payment-methods.ts";

export interface TransferInput {
  amount: number;
  currency: string;
  destination: string;
  transferGroup: string | null;
  sourceTransaction: string | null;
  description: string | null;
  metadata: Metadata;
}

/**
 * Validates and makes a transfer, as the API and a PaymentIntent's `transfer_data` both do:
 * the destination must be a connected account whose `transfers` capability is active, and a
 * `source_transaction` charge must have succeeded, in the same currency, with enough left.
 */
export function makeTransfer(
  core: EmulatorCore,
  input: TransferInput,
  account: string | null,
  request: RequestInfo,
): TransferObject {
  const dest = core.state.accounts.get(input.destination, null);
  if (!dest) {
    throw invalidRequest(`No such destination: '${input.destination}'`, {
      code: "resource_missing",
      param: "destination",
    });
  }
  if (dest.capabilities.transfers !== "active") {
    throw invalidRequest(
      "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
      { code: "insufficient_capabilities_for_transfer", param: "destination" },
    );
  }
  if (input.sourceTransaction) {
    const charge = core.state.charges.get(input.sourceTransaction, account);
    if (!charge) {
      throw invalidRequest(`No such charge: '${input.sourceTransaction}'`, {
        code: "resource_missing",
        param: "source_transaction",
      });
    }
    if (charge.status !== "succeeded") {
      throw invalidRequest(
        `The source_transaction ${charge.id} has not succeeded; transfers can only be made from a successful charge.`,
        { param: "source_transaction" },
      );
    }
    if (charge.currency !== input.currency) {
      throw invalidRequest(
        `The currency of source_transaction's balance transaction (${charge.currency}) must be the same as the transfer currency (${input.currency}).`,
        { param: "currency" },
      );
    }
    const already = core.state.transfers
      .list(account, (t) => t.source_transaction === charge.id)
      .reduce((sum, t) => sum + t.amount, 0);
    const available = charge.amount - already;
    if (input.amount > available) {
      throw invalidRequest(
        `Transfer amount (${formatAmount(input.amount, input.currency)}) exceeds the amount still available from source_transaction ${charge.id} (${formatAmount(Math.max(0, available), input.currency)}).`,
        { code: "amount_too_large", param: "amount" },
      );
    }
  }
  const now = unixNow();
  const id = newId("tr");
  const payment = destinationPayment(core, id, input, now);
  const transfer: TransferObject = {
    id,
    object: "transfer",
    amount: input.amount,
    amount_reversed: 0,
    balance_transaction: newId("txn"),
    created: now,
    currency: input.currency,
    description: input.description,
    destination: input.destination,
    destination_payment: payment.id,
    livemode: false,
    metadata: input.metadata,
    reversals: {
      object: "list",
      data: [],
      has_more: false,
      total_count: 0,
      url: `/v1/transfers/${id}/reversals`,
    },
    reversed: false,
    source_transaction: input.sourceTransaction,
    source_type: "card",
    transfer_group: input.transferGroup,
  };
  core.state.transfers.add(transfer, account);
  core.emit({ type: "transfer.created", object: transfer, account, request });
  return transfer;
}

/** The `py_…` payment the connected account sees for an incoming transfer. */
function destinationPayment(
  core: EmulatorCore,
  transferId: string,
  input: TransferInput,
  now: number,
): ChargeObject {
  const payment: ChargeObject = {
    id: newId("py"),
    object: "charge",
    amount: input.amount,
    amount_captured: input.amount,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: newId("txn"),
    billing_details: structuredClone(EMPTY_BILLING),
    calculated_statement_descriptor: null,
    captured: true,
    created: now,
    currency: input.currency,
    customer: null,
    description: null,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    fraud_details: {},
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: null,
    paid: true,
    payment_intent: null,
    payment_method: null,
    payment_method_details: null,
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: transferId,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: "succeeded",
    transfer_data: null,
    transfer_group: input.transferGroup,
  };
  return core.state.charges.add(payment, input.destination);
}

/**
 * Reverses part or all of a transfer (default: what is left). Emits `transfer.reversed`.
 * `sourceRefund` links a reversal made by a refund with `reverse_transfer`.
 */
export function reverseTransfer(
  core: EmulatorCore,
  transfer: TransferObject,
  opts: { amount?: number; metadata?: Metadata; sourceRefund?: string | null },
  account: string | null,
  request: RequestInfo,
): TransferReversalObject {
  const remaining = transfer.amount - transfer.amount_reversed;
  if (remaining <= 0) {
    throw invalidRequest(`Transfer ${transfer.id} has already been fully reversed.`, {
      code: "transfer_already_reversed",
    });
  }
  const amount = opts.amount ?? remaining;
  if (amount > remaining) {
    throw invalidRequest(
      `Reversal amount (${formatAmount(amount, transfer.currency)}) is greater than the amount left to reverse on the transfer (${formatAmount(remaining, transfer.currency)}).`,
      { code: "amount_too_large", param: "amount" },
    );
  }
  const reversal: TransferReversalObject = {
    id: newId("trr"),
    object: "transfer_reversal",
    amount,
    balance_transaction: newId("txn"),
    created: unixNow(),
    currency: transfer.currency,
    destination_payment_refund: newId("pyr"),
    metadata: opts.metadata ?? {},
    source_refund: opts.sourceRefund ?? null,
    transfer: transfer.id,
  };
  const previous = { amount_reversed: transfer.amount_reversed, reversed: transfer.reversed };
  transfer.amount_reversed += amount;
  transfer.reversed = transfer.amount_reversed >= transfer.amount;
  transfer.reversals.data.unshift(reversal);
  transfer.reversals.total_count = transfer.reversals.data.length;
  const payment = core.state.charges.get(transfer.destination_payment, transfer.destination);
  if (payment) {
    payment.amount_refunded += amount;
    payment.refunded = payment.amount_refunded >= payment.amount;
  }
  core.emit({
    type: "transfer.reversed",
    object: transfer,
    account,
    previousAttributes: previous,
    request,
  });
  return reversal;
}

export function createTransfer(ctx: ApiContext): TransferObject {
  const p = ctx.params;
  allowParams(p, [
    "amount",
    "currency",
    "destination",
    "transfer_group",
    "source_transaction",
    "source_type",
    "description",
    "metadata",
  ]);
  const input: TransferInput = {
    amount: reqInt(p, "amount", 1),
    currency: reqCurrency(p),
    destination: reqString(p, "destination"),
    transferGroup: optString(p, "transfer_group") ?? null,
    sourceTransaction: optString(p, "source_transaction") ?? null,
    description: optString(p, "description") ?? null,
    metadata: applyMetadata(p),
  };
  const sourceType = optString(p, "source_type");
  if (sourceType !== undefined && sourceType !== "card") {
    throw invalidParam("Only source_type=card is emulated.", "source_type");
  }
  return makeTransfer(ctx.core, input, ctx.account, ctx.request);
}

export function retrieveTransfer(ctx: ApiContext): TransferObject {
  allowParams(ctx.params, []);
  return ctx.core.state.transfers.require(ctx.path.id ?? "", ctx.account);
}

export function updateTransfer(ctx: ApiContext): TransferObject {
  allowParams(ctx.params, ["metadata", "description"]);
  const transfer = ctx.core.state.transfers.require(ctx.path.id ?? "", ctx.account);
  transfer.metadata = applyMetadata(ctx.params, transfer.metadata);
  const description = optNullableString(ctx.params, "description");
  if (description !== undefined) transfer.description = description;
  return transfer;
}

export function listTransfers(ctx: ApiContext): ListObject<TransferObject> {
  allowParams(ctx.params, [...LIST_PARAMS, "destination", "transfer_group"]);
  const destination = optString(ctx.params, "destination");
  const group = optString(ctx.params, "transfer_group");
  const inRange = createdFilter(ctx.params);
  const items = ctx.core.state.transfers.list(
    ctx.account,
    (t) =>
      (!destination || t.destination === destination) &&
      (!group || t.transfer_group === group) &&
      inRange(t.created),
  );
  return paginate(items, ctx.params, "/v1/transfers");
}

export function createReversal(ctx: ApiContext): TransferReversalObject {
  allowParams(ctx.params, ["amount", "description", "metadata", "refund_application_fee"]);
  const transfer = ctx.core.state.transfers.require(ctx.path.id ?? "", ctx.account, "id");
  const amount = optInt(ctx.params, "amount", 1);
  return reverseTransfer(
    ctx.core,
    transfer,
    { ...(amount === undefined ? {} : { amount }), metadata: applyMetadata(ctx.params) },
    ctx.account,
    ctx.request,
  );
}

export function listReversals(ctx: ApiContext): ListObject<TransferReversalObject> {
  allowParams(ctx.params, ["limit", "starting_after", "ending_before"]);
  const transfer = ctx.core.state.transfers.require(ctx.path.id ?? "", ctx.account, "id");
  return paginate(transfer.reversals.data, ctx.params, `/v1/transfers/${transfer.id}/reversals`);
}

export function retrieveReversal(ctx: ApiContext): TransferReversalObject {
  allowParams(ctx.params, []);
  const transfer = ctx.core.state.transfers.require(ctx.path.id ?? "", ctx.account, "id");
  const reversal = transfer.reversals.data.find((r) => r.id === ctx.path.reversal);
  if (!reversal) {
    throw invalidRequest(`No such transfer_reversal: '${ctx.path.reversal ?? ""}'`, {
      code: "resource_missing",
      param: "id",
      status: 404,
    });
  }
  return reversal;
}
