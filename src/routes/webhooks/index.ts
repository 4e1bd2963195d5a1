import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createRouter } from "../../http/app.ts";
import type { AppEnv } from "../../http/context.ts";
import { ServiceUnavailable, SignatureInvalid } from "../../services/errors.ts";
import {
  type StripeEventMessage,
  verifyWebhook,
  WebhookRejected,
} from "../../services/payments/webhook.ts";
import { problems } from "../schemas.ts";

const Received = z
  .object({ received: z.literal(true), id: z.string().openapi({ example: "evt_1Nq…" }) })
  .openapi("WebhookReceived");

const StripeEventBody = z
  .object({ id: z.string(), object: z.literal("event"), type: z.string() })
  .passthrough()
  .openapi("StripeEvent", { description: "A Stripe event, exactly as Stripe sends it." });

function describe(path: string, summary: string, secret: string) {
  return createRoute({
    method: "post",
    path,
    tags: ["webhooks"],
    summary,
    description:
      `Verified by signature, not by schema: the raw body must carry a valid \`Stripe-Signature\` ` +
      `made with ${secret}, with a timestamp within STRIPE_WEBHOOK_TOLERANCE_SECONDS of now in ` +
      "either direction; otherwise 400 and nothing is enqueued. A verified event is put on the " +
      "`stripe-events` queue and answered 200 at once; the consumer applies it once per event id. " +
      "Event types Souk does not handle are accepted and recorded as ignored.",
    request: {
      headers: z.object({
        "stripe-signature": z.string().openapi({
          description: "`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + '.' + raw body)>`",
        }),
      }),
      body: {
        content: { "application/json": { schema: StripeEventBody } },
        required: true,
      },
    },
    responses: {
      200: {
        description: "Verified and queued",
        content: { "application/json": { schema: Received } },
      },
      ...problems(400, 503),
    },
  });
}

const platform = describe(
  "/stripe",
  "Stripe platform events (payments, refunds, disputes)",
  "STRIPE_WEBHOOK_SECRET",
);
const connect = describe(
  "/stripe/connect",
  "Stripe Connect events from connected accounts (account.updated)",
  "STRIPE_CONNECT_WEBHOOK_SECRET",
);

/**
 * Reads the raw body before anything else (a JSON validator would consume and re-serialise it,
 * and the signature is over the exact bytes), verifies it, enqueues, answers. No database work
 * happens on this path: Stripe gets its 2xx even while Postgres is down, and the queue retries.
 */
async function receive(
  c: Context<AppEnv>,
  source: StripeEventMessage["source"],
): Promise<Response> {
  const payload = await c.req.text();
  const { config, logger } = c.get("services");
  const secret =
    source === "platform" ? config.STRIPE_WEBHOOK_SECRET : config.STRIPE_CONNECT_WEBHOOK_SECRET;
  if (!secret) {
    logger.error("webhook secret is not configured", { source });
    throw new ServiceUnavailable("This webhook endpoint is not configured.");
  }
  let message: StripeEventMessage;
  try {
    message = await verifyWebhook({
      payload,
      signature: c.req.header("stripe-signature"),
      secret,
      toleranceSeconds: config.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
      source,
    });
  } catch (err) {
    if (!(err instanceof WebhookRejected)) throw err;
    // Stripe's own messages run to several lines of advice; the first says what failed.
    const reason = err.message.split("\n", 1)[0]?.trim() ?? err.message;
    logger.warn("stripe webhook rejected", { source, reason, bytes: payload.length });
    throw new SignatureInvalid(`The webhook was refused: ${reason}`);
  }
  await c.env.STRIPE_EVENTS.send(message);
  logger.info("stripe webhook queued", { source, eventId: message.id, type: message.type });
  return c.json({ received: true as const, id: message.id }, 200);
}

/**
 * `/v1/webhooks`: Stripe's two endpoints. Registered in the OpenAPI document from `createRoute`
 * but mounted as plain handlers, so no body validator runs before the signature check.
 */
export const webhookRoutes = createRouter();
webhookRoutes.openAPIRegistry.registerPath(platform);
webhookRoutes.openAPIRegistry.registerPath(connect);
webhookRoutes.post("/stripe", (c) => receive(c, "platform"));
webhookRoutes.post("/stripe/connect", (c) => receive(c, "connect"));
