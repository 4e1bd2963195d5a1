// The console's payment page in production (src/console/pages/buyer/payment.ts): mounts Stripe's
// Payment Element with the page's publishable key and client secret, and confirms the payment.
// Stripe then returns the buyer to the page, which waits for Souk's webhook to mark it paid.
document.addEventListener("DOMContentLoaded", () => {
  const host = document.getElementById("payment-element");
  const form = document.getElementById("pay-form");
  if (!host || !form || typeof window.Stripe !== "function") return;
  const { publishableKey, clientSecret, returnUrl } = host.dataset;
  const stripe = window.Stripe(publishableKey);
  const elements = stripe.elements({ clientSecret });
  elements.create("payment").mount(host);
  const error = document.getElementById("pay-error");
  const button = document.getElementById("pay-button");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    const result = await stripe.confirmPayment({
      elements,
      confirmParams: { return_url: returnUrl },
    });
    // Only a refusal comes back here; a success leaves for return_url.
    if (result.error) {
      error.textContent = result.error.message ?? "The payment did not go through.";
      button.disabled = false;
    }
  });
});
