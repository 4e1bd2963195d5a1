/**
 * PaymentIntents with automatic capture. Confirming with a test payment method succeeds (a
 * Charge, `charge.succeeded`, `payment_intent.succeeded`), declines (a failed Charge, HTTP 402
 * card_error, `payment_intent.payment_failed`) or asks for 3-D Secure (`requires_action`, which
 * an emulator helper then completes or fails, as the customer would in Stripe.js).
 */
import { type ApiContext, type EmulatorCore, HELPER_REQUEST, type RequestInfo } from "../core.ts";
import { ApiError, invalidParam, invalidRequest } from "../errors.ts";
import type { FormObject } from "../form.ts";
import { clientSecretFor, formatAmount, minimumCharge, newId, unixNow } from "../ids.ts";
import { LIST_PARAMS, paginate } from "../list.ts";
import type {
  LastPaymentError,
  ListObject,
  PaymentIntentObject,
  PaymentMethodObject,
} from "../objects.ts";
import {
  allowParams,
  applyMetadata,
  createdFilter,
  optBool,
  optEnum,
  optInt,
  optNullableString,
  optObject,
  optString,
  optStringArray,
  reqCurrency,
  reqInt,
} from "../params.ts";
import { createCharge } from "./charges.ts";
import { behaviourOf, resolvePaymentMethod } from "./payment-methods.ts";
import { makeTransfer } from "./transfers.ts";

const MAX_AMOUNT = 99_999_999;

/** Parameters stripe-node knows that change behaviour the emulator does not model. */
const NOT_EMULATED = [
  "payment_method_data",
  "confirmation_token",
  "mandate",
  "mandate_data",
  "hooks",
  "payment_details",
  "amount_details",
  "customer_account",
  "amount_to_confirm",
];

const IGNORED_ON_CREATE = [
  "description",
  "receipt_email",
  "statement_descriptor",
  "statement_descriptor_suffix",
  "customer",
  "on_behalf_of",
  "application_fee_amount",
  "setup_future_usage",
  "shipping",
  "return_url",
  "off_session",
  "error_on_requires_action",
  "use_stripe_sdk",
  "payment_method_options",
  "radar_options",
  "excluded_payment_method_types",
  "payment_method_configuration",
  "confirmation_method",
];

function refuseNotEmulated(params: FormObject): void {
  for (const key of NOT_EMULATED) {
    if (params[key] !== undefined) {
      throw invalidParam(`The Stripe emulator does not support the parameter ${key}.`, key);
    }
  }
}

function checkAmount(amount: number, currency: string, param = "amount"): void {
  const min = minimumCharge(currency);
  if (amount < min) {
    throw invalidParam(
      `Amount must be at least ${formatAmount(min, currency)} ${currency}`,
      param,
      "amount_too_small",
    );
  }
  if (amount > MAX_AMOUNT) {
    throw invalidParam(
      `Amount must be no more than ${formatAmount(MAX_AMOUNT, currency)}`,
      param,
      "amount_too_large",
    );
  }
}

function checkCaptureMethod(params: FormObject): "automatic" | "automatic_async" | undefined {
  const v = optString(params, "capture_method");
  if (v === "manual") {
    throw invalidParam(
      "The Stripe emulator supports capture_method automatic and automatic_async only.",
      "capture_method",
    );
  }
  return optEnum(params, "capture_method", ["automatic", "automatic_async"] as const);
}

/**
 * Stripe refuses to confirm a PaymentIntent that may use redirect-based methods
 * (`automatic_payment_methods` with `allow_redirects` not `never`, the default) without a
 * `return_url`, even for a card. A server-side confirm that forgets it fails here as in Stripe.
 */
function checkReturnUrl(pi: PaymentIntentObject, returnUrl: string | undefined): void {
  const apm = pi.automatic_payment_methods;
  if (apm?.enabled && apm.allow_redirects !== "never" && !returnUrl) {
    throw invalidParam(
      "A `return_url` must be specified because this Payment Intent is configured to automatically accept the payment methods enabled in the Dashboard, some of which may require a full page redirect to succeed. If you do not want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.",
      "return_url",
    );
  }
}

function unexpectedState(pi: PaymentIntentObject, action: string): ApiError {
  return invalidRequest(
    `You cannot ${action} this PaymentIntent because it has a status of ${pi.status}.`,
    {
      code: "payment_intent_unexpected_state",
      extra: { payment_intent: structuredClone(pi) },
    },
  );
}

export interface ConfirmOptions {
  paymentMethod?: string;
  returnUrl?: string;
  offSession?: boolean;
  errorOnRequiresAction?: boolean;
}

/**
 * Confirms a PaymentIntent with its payment method. Returns it succeeded or requiring action;
 * a decline changes it (requires_payment_method, last_payment_error, a failed charge, events)
 * and then throws Stripe's 402 card_error, which an idempotent replay answers again.
 */
export function confirmIntent(
  core: EmulatorCore,
  pi: PaymentIntentObject,
  opts: ConfirmOptions,
  account: string | null,
  request: RequestInfo,
): PaymentIntentObject {
  const confirmable = ["requires_payment_method", "requires_confirmation", "requires_action"];
  if (!confirmable.includes(pi.status)) throw unexpectedState(pi, "confirm");
  const pmId = opts.paymentMethod ?? pi.payment_method;
  if (!pmId) {
    throw invalidRequest(
      "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent, specify a payment method with payment_method.",
      { code: "payment_intent_unexpected_state", param: "payment_method" },
    );
  }
  checkReturnUrl(pi, opts.returnUrl);
  const pm = resolvePaymentMethod(core, pmId, account);
  pi.payment_method = pm.id;
  pi.last_payment_error = null;
  pi.next_action = null;
  const behaviour = behaviourOf(pm);
  if (behaviour.kind === "decline") {
    decline(core, pi, pm, behaviour, account, request);
  }
  if (behaviour.kind === "require_action") {
    if (opts.offSession || opts.errorOnRequiresAction) {
      decline(
        core,
        pi,
        pm,
        {
          code: "authentication_required",
          declineCode: "authentication_required",
          message: "Your card was declined. This transaction requires authentication.",
        },
        account,
        request,
      );
    }
    const authUrl = `${core.baseUrl}/_emulator/payment_intents/${pi.id}/authenticate`;
    pi.status = "requires_action";
    pi.next_action = opts.returnUrl
      ? { type: "redirect_to_url", redirect_to_url: { url: authUrl, return_url: opts.returnUrl } }
      : {
          type: "use_stripe_sdk",
          use_stripe_sdk: {
            type: "three_d_secure_redirect",
            stripe_js: authUrl,
            source: newId("src"),
          },
        };
    core.emit({ type: "payment_intent.requires_action", object: pi, account, request });
    return pi;
  }
  return succeed(core, pi, pm, account, request);
}

function succeed(
  core: EmulatorCore,
  pi: PaymentIntentObject,
  pm: PaymentMethodObject,
  account: string | null,
  request: RequestInfo,
): PaymentIntentObject {
  const charge = createCharge(core, pi, pm, { status: "succeeded" }, account);
  pi.status = "succeeded";
  pi.amount_received = pi.amount;
  pi.latest_charge = charge.id;
  pi.next_action = null;
  pi.last_payment_error = null;
  if (pi.transfer_data) {
    // A destination charge: Stripe transfers the connected account's share at once.
    const group = pi.transfer_group ?? `group_${pi.id}`;
    const transfer = makeTransfer(
      core,
      {
        amount: pi.transfer_data.amount ?? pi.amount - (pi.application_fee_amount ?? 0),
        currency: pi.currency,
        destination: pi.transfer_data.destination,
        transferGroup: group,
        sourceTransaction: charge.id,
        description: null,
        metadata: {},
      },
      account,
      request,
    );
    charge.transfer = transfer.id;
    charge.transfer_group = group;
  }
  core.emit({ type: "charge.succeeded", object: charge, account, request });
  core.emit({ type: "payment_intent.succeeded", object: pi, account, request });
  return pi;
}

function decline(
  core: EmulatorCore,
  pi: PaymentIntentObject,
  pm: PaymentMethodObject,
  reason: { code: string; declineCode: string; message: string },
  account: string | null,
  request: RequestInfo,
): never {
  const charge = createCharge(
    core,
    pi,
    pm,
    {
      status: "failed",
      code: reason.code,
      declineCode: reason.declineCode,
      message: reason.message,
    },
    account,
  );
  const docUrl = `https://stripe.com/docs/error-codes/${reason.code.replace(/_/g, "-")}`;
  const error: LastPaymentError = {
    type: "card_error",
    code: reason.code,
    decline_code: reason.declineCode,
    message: reason.message,
    doc_url: docUrl,
    charge: charge.id,
    payment_method: structuredClone(pm),
  };
  pi.status = "requires_payment_method";
  pi.last_payment_error = error;
  pi.latest_charge = charge.id;
  pi.payment_method = null;
  pi.next_action = null;
  core.emit({ type: "charge.failed", object: charge, account, request });
  core.emit({ type: "payment_intent.payment_failed", object: pi, account, request });
  throw new ApiError(402, {
    type: "card_error",
    code: reason.code,
    decline_code: reason.declineCode,
    message: reason.message,
    doc_url: docUrl,
    charge: charge.id,
    payment_intent: structuredClone(pi),
    payment_method: structuredClone(pm),
  });
}

/**
 * Test helper: the customer finishes (or fails) 3-D Secure on a `requires_action` intent, as
 * Stripe.js would after `handleNextAction`. Success charges it; failure returns it to
 * `requires_payment_method` with `payment_intent_authentication_failure`.
 */
export function completeAction(
  core: EmulatorCore,
  piId: string,
  account: string | null,
  outcome: "succeed" | "fail",
): PaymentIntentObject {
  const pi = core.state.paymentIntents.require(piId, account);
  if (pi.status !== "requires_action") throw unexpectedState(pi, "authenticate");
  const pm = pi.payment_method ? core.state.paymentMethods.get(pi.payment_method, account) : null;
  if (!pm) throw invalidRequest(`PaymentIntent ${pi.id} has no payment method to authenticate.`);
  if (outcome === "succeed") return succeed(core, pi, pm, account, HELPER_REQUEST);
  pi.status = "requires_payment_method";
  pi.next_action = null;
  pi.payment_method = null;
  pi.last_payment_error = {
    type: "invalid_request_error",
    code: "payment_intent_authentication_failure",
    message:
      "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
    doc_url: "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
    payment_method: structuredClone(pm),
  };
  core.emit({
    type: "payment_intent.payment_failed",
    object: pi,
    account,
    request: HELPER_REQUEST,
  });
  return pi;
}

/** Cancels an intent that has not succeeded; emits `payment_intent.canceled`. */
export function cancelIntent(
  core: EmulatorCore,
  pi: PaymentIntentObject,
  reason: string | null,
  account: string | null,
  request: RequestInfo,
): PaymentIntentObject {
  if (pi.status === "succeeded" || pi.status === "canceled") {
    throw invalidRequest(
      `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.`,
      { code: "payment_intent_unexpected_state", extra: { payment_intent: structuredClone(pi) } },
    );
  }
  pi.status = "canceled";
  pi.canceled_at = unixNow();
  pi.cancellation_reason = reason;
  pi.next_action = null;
  core.emit({ type: "payment_intent.canceled", object: pi, account, request });
  return pi;
}

function readAutomaticPaymentMethods(
  params: FormObject,
): PaymentIntentObject["automatic_payment_methods"] | undefined {
  const apm = optObject(params, "automatic_payment_methods");
  if (!apm) return undefined;
  allowParams(apm, ["enabled", "allow_redirects"]);
  const enabled = optBool(apm, "enabled");
  if (enabled === undefined)
    throw invalidParam(
      "Missing required param: automatic_payment_methods[enabled].",
      "automatic_payment_methods[enabled]",
      "parameter_missing",
    );
  const allow = optEnum(apm, "allow_redirects", ["always", "never"] as const) ?? "always";
  return { enabled, allow_redirects: allow };
}

function readTransferData(
  core: EmulatorCore,
  params: FormObject,
): PaymentIntentObject["transfer_data"] | undefined {
  const td = optObject(params, "transfer_data");
  if (!td) return undefined;
  allowParams(td, ["destination", "amount"]);
  const destination = optString(td, "destination");
  if (!destination) {
    throw invalidParam(
      "Missing required param: transfer_data[destination].",
      "transfer_data[destination]",
      "parameter_missing",
    );
  }
  const dest = core.state.accounts.get(destination, null);
  if (!dest) {
    throw invalidParam(
      `No such destination: '${destination}'`,
      "transfer_data[destination]",
      "resource_missing",
    );
  }
  if (dest.capabilities.transfers !== "active") {
    throw invalidParam(
      "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
      "transfer_data[destination]",
      "insufficient_capabilities_for_transfer",
    );
  }
  const amount = optInt(td, "amount", 1);
  return amount === undefined ? { destination } : { destination, amount };
}

export function createPaymentIntent(ctx: ApiContext): PaymentIntentObject {
  return createIntent(ctx.core, ctx.params, ctx.account, ctx.request);
}

/** `POST /v1/payment_intents`, also used by the emulator's `trigger` helper. */
export function createIntent(
  core: EmulatorCore,
  p: FormObject,
  account: string | null,
  request: RequestInfo,
): PaymentIntentObject {
  allowParams(p, [
    "amount",
    "currency",
    "metadata",
    "transfer_group",
    "transfer_data",
    "payment_method",
    "payment_method_types",
    "allowed_payment_method_types",
    "automatic_payment_methods",
    "capture_method",
    "confirm",
    ...IGNORED_ON_CREATE,
    ...NOT_EMULATED,
  ]);
  refuseNotEmulated(p);
  const currency = reqCurrency(p);
  const amount = reqInt(p, "amount", 1);
  checkAmount(amount, currency);
  const captureMethod = checkCaptureMethod(p) ?? "automatic_async";
  const types =
    optStringArray(p, "allowed_payment_method_types") ?? optStringArray(p, "payment_method_types");
  const apmParam = readAutomaticPaymentMethods(p);
  if (apmParam && types) {
    throw invalidParam(
      "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.",
      "automatic_payment_methods",
    );
  }
  // Without either, current API versions turn automatic payment methods on.
  const apm = apmParam ?? (types ? null : { enabled: true, allow_redirects: "always" as const });
  const transferData = readTransferData(core, p) ?? null;
  const confirm = optBool(p, "confirm") ?? false;
  const returnUrl = optString(p, "return_url");
  const paymentMethod = optString(p, "payment_method");
  const fee = optInt(p, "application_fee_amount", 0);
  if (fee !== undefined && !transferData && !optString(p, "on_behalf_of") && !account) {
    throw invalidParam(
      "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment (using an OAuth key or Stripe-Account header) or destination payment (using `transfer_data[destination]`).",
      "application_fee_amount",
    );
  }
  const id = newId("pi");
  const pi: PaymentIntentObject = {
    id,
    object: "payment_intent",
    amount,
    amount_capturable: 0,
    amount_received: 0,
    allowed_payment_method_types: types ?? null,
    application: null,
    application_fee_amount: fee ?? null,
    automatic_payment_methods: apm,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: captureMethod,
    client_secret: clientSecretFor(id),
    confirmation_method:
      optEnum(p, "confirmation_method", ["automatic", "manual"] as const) ?? "automatic",
    created: unixNow(),
    currency,
    customer: optString(p, "customer") ?? null,
    description: optString(p, "description") ?? null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: applyMetadata(p),
    next_action: null,
    on_behalf_of: optString(p, "on_behalf_of") ?? null,
    payment_method: null,
    payment_method_options: { card: { request_three_d_secure: "automatic" } },
    payment_method_types: types ?? ["card"],
    processing: null,
    receipt_email: optString(p, "receipt_email") ?? null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: optString(p, "statement_descriptor") ?? null,
    statement_descriptor_suffix: optString(p, "statement_descriptor_suffix") ?? null,
    status: "requires_payment_method",
    transfer_data: transferData,
    transfer_group: optString(p, "transfer_group") ?? null,
  };
  if (confirm) checkReturnUrl(pi, returnUrl);
  if (paymentMethod) {
    pi.payment_method = resolvePaymentMethod(core, paymentMethod, account).id;
    pi.status = "requires_confirmation";
  }
  core.state.paymentIntents.add(pi, account);
  core.emit({ type: "payment_intent.created", object: pi, account, request });
  if (!confirm) return pi;
  return confirmIntent(
    core,
    pi,
    {
      ...(returnUrl ? { returnUrl } : {}),
      offSession: optBool(p, "off_session") ?? false,
      errorOnRequiresAction: optBool(p, "error_on_requires_action") ?? false,
    },
    account,
    request,
  );
}

export function retrievePaymentIntent(ctx: ApiContext): PaymentIntentObject {
  allowParams(ctx.params, ["client_secret"]);
  const pi = ctx.core.state.paymentIntents.require(ctx.path.id ?? "", ctx.account);
  const secret = optString(ctx.params, "client_secret");
  if (secret !== undefined && secret !== pi.client_secret) {
    throw invalidParam(
      "The client_secret provided does not match the client_secret associated with the PaymentIntent.",
      "client_secret",
    );
  }
  return pi;
}

export function updatePaymentIntent(ctx: ApiContext): PaymentIntentObject {
  const p = ctx.params;
  allowParams(p, [
    "amount",
    "currency",
    "metadata",
    "description",
    "transfer_group",
    "payment_method",
    "receipt_email",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "application_fee_amount",
    "capture_method",
    "setup_future_usage",
    "shipping",
    "payment_method_options",
    "customer",
    ...NOT_EMULATED,
  ]);
  refuseNotEmulated(p);
  const pi = ctx.core.state.paymentIntents.require(ctx.path.id ?? "", ctx.account);
  const editable = ["requires_payment_method", "requires_confirmation", "requires_action"];
  const amount = optInt(p, "amount", 1);
  const currency = p.currency === undefined ? undefined : reqCurrency(p);
  const paymentMethod = optString(p, "payment_method");
  if (
    (amount !== undefined || currency !== undefined || paymentMethod) &&
    !editable.includes(pi.status)
  ) {
    const field =
      amount !== undefined ? "amount" : currency !== undefined ? "currency" : "payment_method";
    throw invalidRequest(
      `This PaymentIntent's ${field} could not be updated because it has a status of ${pi.status}. You may only update the ${field} of a PaymentIntent with one of the following statuses: requires_payment_method, requires_confirmation, requires_action.`,
      { code: "payment_intent_unexpected_state", param: field },
    );
  }
  checkCaptureMethod(p);
  if (amount !== undefined || currency !== undefined) {
    checkAmount(amount ?? pi.amount, currency ?? pi.currency);
    pi.amount = amount ?? pi.amount;
    pi.currency = currency ?? pi.currency;
  }
  if (paymentMethod) {
    pi.payment_method = resolvePaymentMethod(ctx.core, paymentMethod, ctx.account).id;
    pi.status = "requires_confirmation";
  }
  pi.metadata = applyMetadata(p, pi.metadata);
  const setNullable = (
    key:
      | "description"
      | "transfer_group"
      | "receipt_email"
      | "statement_descriptor"
      | "statement_descriptor_suffix"
      | "customer",
  ) => {
    const v = optNullableString(p, key);
    if (v !== undefined) pi[key] = v;
  };
  setNullable("description");
  setNullable("transfer_group");
  setNullable("receipt_email");
  setNullable("statement_descriptor");
  setNullable("statement_descriptor_suffix");
  setNullable("customer");
  const fee = optInt(p, "application_fee_amount", 0);
  if (fee !== undefined) pi.application_fee_amount = fee;
  return pi;
}

export function confirmPaymentIntent(ctx: ApiContext): PaymentIntentObject {
  const p = ctx.params;
  allowParams(p, [
    "payment_method",
    "return_url",
    "off_session",
    "error_on_requires_action",
    "receipt_email",
    "setup_future_usage",
    "payment_method_options",
    "payment_method_types",
    "allowed_payment_method_types",
    "use_stripe_sdk",
    "capture_method",
    "shipping",
    "radar_options",
    "client_secret",
    "excluded_payment_method_types",
    ...NOT_EMULATED,
  ]);
  refuseNotEmulated(p);
  checkCaptureMethod(p);
  const pi = ctx.core.state.paymentIntents.require(ctx.path.id ?? "", ctx.account);
  const paymentMethod = optString(p, "payment_method");
  const returnUrl = optString(p, "return_url");
  const email = optString(p, "receipt_email");
  if (email !== undefined) pi.receipt_email = email;
  return confirmIntent(
    ctx.core,
    pi,
    {
      ...(paymentMethod ? { paymentMethod } : {}),
      ...(returnUrl ? { returnUrl } : {}),
      offSession: optBool(p, "off_session") ?? false,
      errorOnRequiresAction: optBool(p, "error_on_requires_action") ?? false,
    },
    ctx.account,
    ctx.request,
  );
}

const CANCELLATION_REASONS = [
  "duplicate",
  "fraudulent",
  "requested_by_customer",
  "abandoned",
] as const;

export function cancelPaymentIntent(ctx: ApiContext): PaymentIntentObject {
  allowParams(ctx.params, ["cancellation_reason"]);
  const reason = optEnum(ctx.params, "cancellation_reason", CANCELLATION_REASONS) ?? null;
  const pi = ctx.core.state.paymentIntents.require(ctx.path.id ?? "", ctx.account);
  return cancelIntent(ctx.core, pi, reason, ctx.account, ctx.request);
}

export function listPaymentIntents(ctx: ApiContext): ListObject<PaymentIntentObject> {
  allowParams(ctx.params, [...LIST_PARAMS, "customer"]);
  const customer = optString(ctx.params, "customer");
  const inRange = createdFilter(ctx.params);
  const items = ctx.core.state.paymentIntents.list(
    ctx.account,
    (pi) => (!customer || pi.customer === customer) && inRange(pi.created),
  );
  return paginate(items, ctx.params, "/v1/payment_intents");
}
