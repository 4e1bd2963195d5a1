/**
 * Stripe's test payment methods. Passing a magic id such as `pm_card_visa` makes a new
 * PaymentMethod (`pm_…`) that the PaymentIntent then carries, as Stripe does; its behaviour on
 * confirm follows the card it stands for.
 */
import type { ApiContext, EmulatorCore } from "../core.ts";
import { invalidParam, resourceMissing } from "../errors.ts";
import { newId, unixNow } from "../ids.ts";
import type { BillingDetails, CardDetails, PaymentMethodObject } from "../objects.ts";
import { allowParams } from "../params.ts";

export type CardBehaviour =
  | { kind: "succeed" }
  | { kind: "decline"; code: string; declineCode: string; message: string }
  | { kind: "require_action" };

interface TestCard {
  brand: string;
  last4: string;
  funding: string;
  behaviour: CardBehaviour;
}

const declined = (declineCode: string, message: string, code = "card_declined"): CardBehaviour => ({
  kind: "decline",
  code,
  declineCode,
  message,
});

const GENERIC = "Your card was declined.";

export const TEST_PAYMENT_METHODS: Record<string, TestCard> = {
  pm_card_visa: { brand: "visa", last4: "4242", funding: "credit", behaviour: { kind: "succeed" } },
  pm_card_visa_debit: {
    brand: "visa",
    last4: "5556",
    funding: "debit",
    behaviour: { kind: "succeed" },
  },
  pm_card_mastercard: {
    brand: "mastercard",
    last4: "4444",
    funding: "credit",
    behaviour: { kind: "succeed" },
  },
  pm_card_amex: { brand: "amex", last4: "8431", funding: "credit", behaviour: { kind: "succeed" } },
  pm_card_chargeDeclined: {
    brand: "visa",
    last4: "0002",
    funding: "credit",
    behaviour: declined("generic_decline", GENERIC),
  },
  pm_card_visa_chargeDeclined: {
    brand: "visa",
    last4: "0002",
    funding: "credit",
    behaviour: declined("generic_decline", GENERIC),
  },
  pm_card_chargeDeclinedInsufficientFunds: {
    brand: "visa",
    last4: "9995",
    funding: "credit",
    behaviour: declined("insufficient_funds", "Your card has insufficient funds."),
  },
  pm_card_chargeDeclinedLostCard: {
    brand: "visa",
    last4: "9987",
    funding: "credit",
    behaviour: declined("lost_card", GENERIC),
  },
  pm_card_chargeDeclinedStolenCard: {
    brand: "visa",
    last4: "9979",
    funding: "credit",
    behaviour: declined("stolen_card", GENERIC),
  },
  pm_card_chargeDeclinedExpiredCard: {
    brand: "visa",
    last4: "0069",
    funding: "credit",
    behaviour: declined("expired_card", "Your card has expired.", "expired_card"),
  },
  pm_card_chargeDeclinedIncorrectCvc: {
    brand: "visa",
    last4: "0127",
    funding: "credit",
    behaviour: declined(
      "incorrect_cvc",
      "Your card's security code is incorrect.",
      "incorrect_cvc",
    ),
  },
  pm_card_chargeDeclinedProcessingError: {
    brand: "visa",
    last4: "0119",
    funding: "credit",
    behaviour: declined(
      "processing_error",
      "An error occurred while processing your card. Try again in a little bit.",
      "processing_error",
    ),
  },
  pm_card_authenticationRequired: {
    brand: "visa",
    last4: "3184",
    funding: "credit",
    behaviour: { kind: "require_action" },
  },
  pm_card_threeDSecure2Required: {
    brand: "visa",
    last4: "3220",
    funding: "credit",
    behaviour: { kind: "require_action" },
  },
};

/** Each stored PaymentMethod remembers which test card it came from (held by the object). */
const behaviours = new WeakMap<PaymentMethodObject, CardBehaviour>();

export function behaviourOf(pm: PaymentMethodObject): CardBehaviour {
  return behaviours.get(pm) ?? { kind: "succeed" };
}

export const EMPTY_BILLING: BillingDetails = {
  address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
  email: null,
  name: null,
  phone: null,
};

function cardDetails(card: TestCard): CardDetails {
  return {
    brand: card.brand,
    last4: card.last4,
    exp_month: 12,
    exp_year: new Date().getUTCFullYear() + 3,
    funding: card.funding,
    country: "US",
    fingerprint: `emu${card.last4}${card.brand}`.slice(0, 16),
    display_brand: card.brand,
  };
}

/**
 * Resolves a `payment_method` parameter: a magic test id makes a fresh PaymentMethod, a `pm_…`
 * made earlier is reused, anything else is Stripe's 404-style 400 `No such PaymentMethod`.
 */
export function resolvePaymentMethod(
  core: EmulatorCore,
  id: string,
  account: string | null,
): PaymentMethodObject {
  const card = TEST_PAYMENT_METHODS[id];
  if (card) {
    const pm: PaymentMethodObject = {
      id: newId("pm"),
      object: "payment_method",
      type: "card",
      card: cardDetails(card),
      billing_details: structuredClone(EMPTY_BILLING),
      created: unixNow(),
      customer: null,
      livemode: false,
      metadata: {},
    };
    behaviours.set(pm, card.behaviour);
    return core.state.paymentMethods.add(pm, account);
  }
  const existing = core.state.paymentMethods.get(id, account);
  if (existing) return existing;
  const err = resourceMissing("PaymentMethod", id, "payment_method");
  throw invalidParam(err.body.message, "payment_method", "resource_missing");
}

export function retrievePaymentMethod(ctx: ApiContext): PaymentMethodObject {
  allowParams(ctx.params, []);
  return ctx.core.state.paymentMethods.require(ctx.path.id ?? "", ctx.account);
}
