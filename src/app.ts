import { Scalar } from "@scalar/hono-api-reference";
import { consoleRoutes } from "./console/index.ts";
import { createApp } from "./http/app.ts";
import { adminRoutes } from "./routes/admin/index.ts";
import { auctionRoutes } from "./routes/auctions/index.ts";
import { authRoutes } from "./routes/auth/index.ts";
import { cartRoutes } from "./routes/cart/index.ts";
import { catalogRoutes } from "./routes/catalog/index.ts";
import { checkoutRoutes } from "./routes/checkout/index.ts";
import { complaintRoutes } from "./routes/complaints/index.ts";
import { conversationRoutes } from "./routes/conversations/index.ts";
import { devRoutes } from "./routes/dev/index.ts";
import { feedbackRoutes } from "./routes/feedback/index.ts";
import { healthRoutes } from "./routes/health.ts";
import { meRoutes } from "./routes/me/index.ts";
import { notificationRoutes } from "./routes/notifications/index.ts";
import { orderRoutes } from "./routes/orders/index.ts";
import { sellerRoutes } from "./routes/seller/index.ts";
import { shopRoutes } from "./routes/shops/index.ts";
import { staffInvitationRoutes } from "./routes/staff-invitations/index.ts";
import { webhookRoutes } from "./routes/webhooks/index.ts";
import { wishlistRoutes } from "./routes/wishlist/index.ts";

/** The whole HTTP surface: one place that shows every resource and where it lives. */
export function buildApp() {
  const app = createApp();
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  app.route("/", healthRoutes);
  app.route("/v1/auth", authRoutes);
  app.route("/v1/me", meRoutes);
  app.route("/v1/shops", shopRoutes);
  app.route("/v1/staff-invitations", staffInvitationRoutes);
  app.route("/v1", catalogRoutes);
  app.route("/v1/seller", sellerRoutes);
  app.route("/v1/admin", adminRoutes);
  app.route("/v1/notifications", notificationRoutes);
  app.route("/v1/webhooks", webhookRoutes);
  app.route("/v1/auctions", auctionRoutes);
  app.route("/v1/orders", orderRoutes);
  app.route("/v1/cart", cartRoutes);
  app.route("/v1/wishlist", wishlistRoutes);
  app.route("/v1/checkout", checkoutRoutes);
  app.route("/v1/complaints", complaintRoutes);
  app.route("/v1/feedback", feedbackRoutes);
  app.route("/v1/conversations", conversationRoutes);
  app.route("/dev", devRoutes);
  app.route("/console", consoleRoutes);
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Souk API",
      version: "1.0.0",
      description:
        "Edge-native marketplace: verified shops, fixed-price items and live auctions. Errors are application/problem+json (RFC 9457) with a stable `code`. Free text (names, titles, descriptions, messages, reasons, notes, addresses, attribute names) is trimmed of surrounding whitespace before its length limits apply, so a value of only spaces is refused wherever a minimum length is given.",
    },
  });
  // The viewer comes from this Worker's own static assets (public/docs/scalar.js, see
  // wrangler.toml), never a CDN: /docs works offline and loads no fonts or telemetry elsewhere.
  app.get(
    "/docs",
    Scalar({
      url: "/openapi.json",
      pageTitle: "Souk API",
      cdn: "/docs/scalar.js",
      withDefaultFonts: false,
      telemetry: false,
      // Scalar's own promotion (SDK generator, deploy) shows on localhost by default.
      showDeveloperTools: "never",
    }),
  );
  return app;
}
