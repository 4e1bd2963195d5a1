/**
 * The objects the emulator keeps, named field for field after Stripe's API reference. Each is a
 * subset of the SDK's own type: `ShapeChecks` below fails to compile if a field we emit does not
 * exist on the stripe-node type of the same object (a typo, or a field Stripe renamed).
 */
import type Stripe from "stripe";
import type { Metadata } from "./params.ts";

export interface ListObject<T> {
  object: "list";
  data: T[];
  has_more: boolean;
  url: string;
  total_count?: number;
}

export interface CardDetails {
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  funding: string;
  country: string;
  fingerprint: string;
  display_brand: string;
}

export interface PaymentMethodObject {
  id: string;
  object: "payment_method";
  type: "card";
  card: CardDetails;
  billing_details: BillingDetails;
  created: number;
  customer: null;
  livemode: false;
  metadata: Metadata;
}

export interface BillingDetails {
  address: {
    city: null;
    country: null;
    line1: null;
    line2: null;
    postal_code: null;
    state: null;
  };
  email: null;
  name: null;
  phone: null;
}

export type PaymentIntentStatus =
  | "requires_payment_method"
  | "requires_confirmation"
  | "requires_action"
  | "processing"
  | "requires_capture"
  | "canceled"
  | "succeeded";

export interface LastPaymentError {
  type: "card_error" | "invalid_request_error";
  code: string;
  message: string;
  decline_code?: string;
  doc_url?: string;
  charge?: string;
  payment_method?: PaymentMethodObject;
}

export interface NextAction {
  type: "use_stripe_sdk" | "redirect_to_url";
  use_stripe_sdk?: { type: "three_d_secure_redirect"; stripe_js: string; source: string };
  redirect_to_url?: { url: string; return_url: string };
}

export interface PaymentIntentObject {
  id: string;
  object: "payment_intent";
  amount: number;
  amount_capturable: number;
  amount_received: number;
  allowed_payment_method_types: string[] | null;
  application: null;
  application_fee_amount: number | null;
  automatic_payment_methods: { enabled: boolean; allow_redirects?: "always" | "never" } | null;
  canceled_at: number | null;
  cancellation_reason: string | null;
  capture_method: "automatic" | "automatic_async";
  client_secret: string;
  confirmation_method: "automatic" | "manual";
  created: number;
  currency: string;
  customer: string | null;
  description: string | null;
  last_payment_error: LastPaymentError | null;
  latest_charge: string | null;
  livemode: false;
  metadata: Metadata;
  next_action: NextAction | null;
  on_behalf_of: string | null;
  payment_method: string | null;
  payment_method_options: { card: { request_three_d_secure: "automatic" } };
  payment_method_types: string[];
  processing: null;
  receipt_email: string | null;
  review: null;
  setup_future_usage: null;
  shipping: null;
  source: null;
  statement_descriptor: string | null;
  statement_descriptor_suffix: string | null;
  status: PaymentIntentStatus;
  transfer_data: { destination: string; amount?: number } | null;
  transfer_group: string | null;
}

export interface ChargeObject {
  id: string;
  object: "charge";
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  application: null;
  application_fee: null;
  application_fee_amount: number | null;
  balance_transaction: string | null;
  billing_details: BillingDetails;
  calculated_statement_descriptor: string | null;
  captured: boolean;
  created: number;
  currency: string;
  customer: string | null;
  description: string | null;
  disputed: boolean;
  failure_balance_transaction: null;
  failure_code: string | null;
  failure_message: string | null;
  fraud_details: Record<string, never>;
  livemode: false;
  metadata: Metadata;
  on_behalf_of: string | null;
  outcome: {
    advice_code: null;
    network_advice_code: null;
    network_decline_code: null;
    network_status: string;
    reason: string | null;
    risk_level: string;
    risk_score: number;
    seller_message: string;
    type: string;
  } | null;
  paid: boolean;
  payment_intent: string | null;
  payment_method: string | null;
  payment_method_details: { type: "card"; card: CardDetails } | null;
  receipt_email: string | null;
  receipt_number: null;
  receipt_url: string | null;
  refunded: boolean;
  review: null;
  shipping: null;
  source: null;
  source_transfer: string | null;
  statement_descriptor: string | null;
  statement_descriptor_suffix: string | null;
  status: "succeeded" | "failed" | "pending";
  transfer?: string;
  transfer_data: { destination: string; amount: number | null } | null;
  transfer_group: string | null;
}

export interface RefundObject {
  id: string;
  object: "refund";
  amount: number;
  balance_transaction: string;
  charge: string;
  created: number;
  currency: string;
  customer: null;
  customer_account: null;
  destination_details: { type: "card"; card: { type: "refund"; reference_status: "pending" } };
  instructions_email?: string;
  metadata: Metadata;
  payment_intent: string | null;
  payment_method: string | null;
  reason: string | null;
  receipt_number: null;
  source_transfer_reversal: null;
  status: "succeeded" | "pending" | "failed" | "canceled";
  transfer_reversal: string | null;
}

export interface TransferReversalObject {
  id: string;
  object: "transfer_reversal";
  amount: number;
  balance_transaction: string;
  created: number;
  currency: string;
  destination_payment_refund: string;
  metadata: Metadata;
  source_refund: string | null;
  transfer: string;
}

export interface TransferObject {
  id: string;
  object: "transfer";
  amount: number;
  amount_reversed: number;
  balance_transaction: string;
  created: number;
  currency: string;
  description: string | null;
  destination: string;
  destination_payment: string;
  livemode: false;
  metadata: Metadata;
  reversals: ListObject<TransferReversalObject>;
  reversed: boolean;
  source_transaction: string | null;
  source_type: "card";
  transfer_group: string | null;
}

export type CapabilityStatus = "active" | "inactive" | "pending";

export interface Requirements {
  alternatives: [];
  current_deadline: null;
  currently_due: string[];
  disabled_reason: string | null;
  errors: [];
  eventually_due: string[];
  past_due: string[];
  pending_verification: [];
}

export interface AccountObject {
  id: string;
  object: "account";
  business_profile: Record<string, unknown>;
  business_type: string | null;
  capabilities: Record<string, CapabilityStatus>;
  charges_enabled: boolean;
  controller: {
    type: "application";
    is_controller: true;
    stripe_dashboard: { type: "express" | "full" | "none" };
  };
  country: string;
  created: number;
  default_currency: string;
  details_submitted: boolean;
  email: string | null;
  external_accounts: ListObject<never>;
  future_requirements: Requirements;
  metadata: Metadata;
  payouts_enabled: boolean;
  requirements: Requirements;
  settings: { payouts: { schedule: { interval: "daily"; delay_days: number } } };
  tos_acceptance: { date: number | null };
  type: "standard" | "express" | "custom";
}

export interface AccountLinkObject {
  object: "account_link";
  created: number;
  expires_at: number;
  url: string;
}

export interface DisputeObject {
  id: string;
  object: "dispute";
  amount: number;
  balance_transactions: [];
  charge: string;
  created: number;
  currency: string;
  enhanced_eligibility_types: [];
  evidence: Record<string, null>;
  evidence_details: {
    due_by: number;
    has_evidence: boolean;
    past_due: boolean;
    submission_count: number;
  };
  is_charge_refundable: boolean;
  livemode: false;
  metadata: Metadata;
  payment_intent: string | null;
  reason: string;
  status: "needs_response" | "under_review" | "won" | "lost";
}

export interface EventObject {
  id: string;
  object: "event";
  account?: string;
  api_version: string;
  created: number;
  data: { object: unknown; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface WebhookEndpointObject {
  id: string;
  object: "webhook_endpoint";
  api_version: string | null;
  application: null;
  created: number;
  description: string | null;
  enabled_events: string[];
  livemode: false;
  metadata: Metadata;
  secret?: string;
  status: "enabled" | "disabled";
  url: string;
}

/** Any top-level object the emulator stores, by its `object` field. */
export type StoredObject =
  | PaymentIntentObject
  | ChargeObject
  | RefundObject
  | TransferObject
  | AccountObject
  | PaymentMethodObject
  | DisputeObject
  | EventObject;

type Extra<Ours, Theirs> = Exclude<keyof Ours, keyof Theirs>;
type Assert<T extends never> = T;

/** Compile-time only: each of our objects uses field names the SDK knows. */
export type ShapeChecks = [
  Assert<Extra<PaymentIntentObject, Stripe.PaymentIntent>>,
  Assert<Extra<LastPaymentError, Stripe.PaymentIntent.LastPaymentError>>,
  Assert<Extra<NextAction, Stripe.PaymentIntent.NextAction>>,
  Assert<Extra<ChargeObject, Stripe.Charge>>,
  Assert<Extra<NonNullable<ChargeObject["outcome"]>, Stripe.Charge.Outcome>>,
  Assert<Extra<RefundObject, Stripe.Refund>>,
  Assert<Extra<TransferObject, Stripe.Transfer>>,
  Assert<Extra<TransferReversalObject, Stripe.TransferReversal>>,
  Assert<Extra<AccountObject, Stripe.Account>>,
  Assert<Extra<Requirements, Stripe.Account.Requirements>>,
  Assert<Extra<AccountLinkObject, Stripe.AccountLink>>,
  Assert<Extra<PaymentMethodObject, Stripe.PaymentMethod>>,
  Assert<Extra<CardDetails, Stripe.PaymentMethod.Card>>,
  Assert<Extra<DisputeObject, Stripe.Dispute>>,
  Assert<Extra<DisputeObject["evidence_details"], Stripe.Dispute.EvidenceDetails>>,
  Assert<Extra<EventObject, Stripe.Event>>,
  Assert<Extra<WebhookEndpointObject, Stripe.WebhookEndpoint>>,
];
