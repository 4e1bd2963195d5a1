/** Every emulated `/v1` endpoint. Anything else answers Stripe's "Unrecognized request URL". */
import type { ApiContext } from "../core.ts";
import { type Route, route } from "../router.ts";
import {
  createAccount,
  createAccountLink,
  deleteAccount,
  listAccounts,
  retrieveAccount,
  retrieveCurrentAccount,
  updateAccount,
} from "./accounts.ts";
import {
  listCharges,
  listDisputes,
  retrieveCharge,
  retrieveDispute,
  updateCharge,
} from "./charges.ts";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listEvents,
  listWebhookEndpoints,
  retrieveEvent,
  retrieveWebhookEndpoint,
  updateWebhookEndpoint,
} from "./events.ts";
import {
  cancelPaymentIntent,
  confirmPaymentIntent,
  createPaymentIntent,
  listPaymentIntents,
  retrievePaymentIntent,
  updatePaymentIntent,
} from "./payment-intents.ts";
import { retrievePaymentMethod } from "./payment-methods.ts";
import { createRefund, listRefunds, retrieveRefund, updateRefund } from "./refunds.ts";
import {
  createReversal,
  createTransfer,
  listReversals,
  listTransfers,
  retrieveReversal,
  retrieveTransfer,
  updateTransfer,
} from "./transfers.ts";

export type ApiHandler = (ctx: ApiContext) => unknown;

export const API_ROUTES: Route<ApiHandler>[] = [
  route("POST", "/v1/payment_intents", createPaymentIntent),
  route("GET", "/v1/payment_intents", listPaymentIntents),
  route("GET", "/v1/payment_intents/:id", retrievePaymentIntent),
  route("POST", "/v1/payment_intents/:id", updatePaymentIntent),
  route("POST", "/v1/payment_intents/:id/confirm", confirmPaymentIntent),
  route("POST", "/v1/payment_intents/:id/cancel", cancelPaymentIntent),
  route("GET", "/v1/payment_methods/:id", retrievePaymentMethod),
  route("GET", "/v1/charges", listCharges),
  route("GET", "/v1/charges/:id", retrieveCharge),
  route("POST", "/v1/charges/:id", updateCharge),
  route("GET", "/v1/disputes", listDisputes),
  route("GET", "/v1/disputes/:id", retrieveDispute),
  route("POST", "/v1/refunds", createRefund),
  route("GET", "/v1/refunds", listRefunds),
  route("GET", "/v1/refunds/:id", retrieveRefund),
  route("POST", "/v1/refunds/:id", updateRefund),
  route("POST", "/v1/transfers", createTransfer),
  route("GET", "/v1/transfers", listTransfers),
  route("GET", "/v1/transfers/:id", retrieveTransfer),
  route("POST", "/v1/transfers/:id", updateTransfer),
  route("POST", "/v1/transfers/:id/reversals", createReversal),
  route("GET", "/v1/transfers/:id/reversals", listReversals),
  route("GET", "/v1/transfers/:id/reversals/:reversal", retrieveReversal),
  route("POST", "/v1/accounts", createAccount),
  route("GET", "/v1/accounts", listAccounts),
  route("GET", "/v1/accounts/:id", retrieveAccount),
  route("POST", "/v1/accounts/:id", updateAccount),
  route("DELETE", "/v1/accounts/:id", deleteAccount),
  route("GET", "/v1/account", retrieveCurrentAccount),
  route("POST", "/v1/account_links", createAccountLink),
  route("GET", "/v1/events", listEvents),
  route("GET", "/v1/events/:id", retrieveEvent),
  route("POST", "/v1/webhook_endpoints", createWebhookEndpoint),
  route("GET", "/v1/webhook_endpoints", listWebhookEndpoints),
  route("GET", "/v1/webhook_endpoints/:id", retrieveWebhookEndpoint),
  route("POST", "/v1/webhook_endpoints/:id", updateWebhookEndpoint),
  route("DELETE", "/v1/webhook_endpoints/:id", deleteWebhookEndpoint),
];
