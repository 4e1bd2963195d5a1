import { describe, expect, it } from "vitest";
import { paymentElement } from "../../src/console/pages/buyer/payment.ts";
import { policyOf } from "../../src/http/middleware/security-headers.ts";

describe("the console's payment page in production", () => {
  it("mounts the Payment Element with the intent's client secret and a way back to the page", async () => {
    const markup = String(
      await paymentElement({
        publishableKey: "pk_test_abc",
        clientSecret: "pi_1_secret_2",
        returnUrl: "https://souk.example/console/checkout/payments/pi_1",
        total: "€12.00",
      }),
    );
    expect(markup).toContain('data-publishable-key="pk_test_abc"');
    expect(markup).toContain('data-client-secret="pi_1_secret_2"');
    expect(markup).toContain(
      'data-return-url="https://souk.example/console/checkout/payments/pi_1"',
    );
    expect(markup).toContain('<script src="https://js.stripe.com/v3/" defer></script>');
    expect(markup).toContain('<script src="/console/pay.js" defer></script>');
  });

  it("lets Stripe.js run on the payment page only", () => {
    const payment = policyOf("/console/checkout/payments/pi_123");
    expect(payment).toContain("script-src 'self' https://js.stripe.com");
    expect(payment).toContain("frame-src https://js.stripe.com https://hooks.stripe.com");
    expect(payment).toContain("connect-src 'self' https://api.stripe.com");
    for (const path of [
      "/console/cart",
      "/console/checkout",
      "/console/checkout/payments/pi_1/status",
    ]) {
      expect(policyOf(path)).not.toContain("stripe.com");
    }
  });
});
