import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { requireAuth } from "../../http/middleware/auth.ts";
import { serviceContext } from "../../http/service-context.ts";
import { createStripe } from "../../lib/stripe.ts";
import { startPayoutOnboarding } from "../../services/shops/payouts.ts";
import { bearer, IdParam, ok, problems } from "../schemas.ts";

const OnboardingLink = z
  .object({
    accountId: z.string().openapi({ example: "acct_1Nv0FGQ9RKHgCVdK" }),
    onboardingUrl: z
      .url()
      .openapi({ description: "Stripe's hosted onboarding; single use, short-lived." }),
    expiresAt: z.iso.datetime(),
    payoutsEnabled: z
      .boolean()
      .openapi({ description: "Whether Stripe has already enabled payouts for the shop." }),
  })
  .openapi("PayoutOnboardingLink");

const Note = z.object({ shopId: z.uuid(), message: z.string() }).openapi("PayoutOnboardingNote");

const onboard = createRoute({
  method: "post",
  path: "/{id}/payouts/onboard",
  tags: ["shops", "payments"],
  summary: "Start or resume the shop's Stripe Connect onboarding (owner)",
  description:
    "Creates the shop's Express connected account the first time (card payments and transfers " +
    "requested; the same account on every later call) and answers a fresh account link. The " +
    "owner completes onboarding on Stripe; Stripe's `account.updated` then turns the shop's " +
    "`payoutsEnabled` on, and paid orders start transferring the shop's share to the account.",
  security: bearer,
  middleware: [requireAuth],
  request: { params: IdParam },
  responses: {
    200: ok("An onboarding link", OnboardingLink),
    ...problems(401, 403, 404, 409, 422, 503),
  },
});

const landing = (which: "return" | "refresh", summary: string) =>
  createRoute({
    method: "get",
    path: `/{id}/payouts/onboarding/${which}`,
    tags: ["shops", "payments"],
    summary,
    request: { params: IdParam },
    responses: { 200: ok("A note for the seller's browser", Note), ...problems(422) },
  });

const returned = landing("return", "Where Stripe sends the seller after onboarding");
const refresh = landing("refresh", "Where Stripe sends the seller when the link expired");

/** `/v1/shops/{id}/payouts/…`: Stripe Connect onboarding for the shop's owner. */
export const payoutRoutes = createRouter()
  .openapi(onboard, async (c) => {
    const s = c.get("services");
    const link = await startPayoutOnboarding(
      serviceContext(c),
      createStripe(s.config),
      c.var.user.id,
      c.req.valid("param").id,
    );
    return c.json(link, 200);
  })
  // Browser redirects carry no bearer token: these only say what happens next.
  .openapi(returned, (c) =>
    c.json(
      {
        shopId: c.req.valid("param").id,
        message:
          "Onboarding details submitted to Stripe. Payouts turn on as soon as Stripe confirms the account.",
      },
      200,
    ),
  )
  .openapi(refresh, (c) =>
    c.json(
      {
        shopId: c.req.valid("param").id,
        message:
          "This onboarding link has expired or was already used. Ask for a new one with POST /v1/shops/{id}/payouts/onboard.",
      },
      200,
    ),
  );
