import { Scalar } from "@scalar/hono-api-reference";
import { consoleRoutes } from "./console/index.ts";
import { createApp } from "./http/app.ts";
import { adminAuditRoutes } from "./routes/admin/audit.ts";
import { adminCategoryRoutes } from "./routes/admin/categories.ts";
import { adminComplaintRoutes } from "./routes/admin/complaints.ts";
import { adminRoutes } from "./routes/admin/index.ts";
import { adminUserRoutes } from "./routes/admin/users.ts";
import { auctionRoutes } from "./routes/auctions/index.ts";
import { authRoutes } from "./routes/auth/index.ts";
import { cartRoutes } from "./routes/cart/index.ts";
import { catalogRoutes } from "./routes/catalog/index.ts";
import { checkoutRoutes } from "./routes/checkout/index.ts";
import { complaintRoutes } from "./routes/complaints/index.ts";
import { conversationRoutes } from "./routes/conversations/index.ts";
import { devRoutes } from "./routes/dev/index.ts";
import {
  feedbackRoutes,
  orderFeedbackRoutes,
  shopFeedbackRoutes,
} from "./routes/feedback/index.ts";
import { healthRoutes } from "./routes/health.ts";
import { meRoutes } from "./routes/me/index.ts";
import { notificationRoutes } from "./routes/notifications/index.ts";
import { adminOrderRoutes } from "./routes/orders/admin.ts";
import { orderRoutes } from "./routes/orders/index.ts";
import { orderPayRoutes } from "./routes/orders/pay.ts";
import { sellerAnalyticsRoutes } from "./routes/seller/analytics.ts";
import { sellerAuctionRoutes } from "./routes/seller/auctions.ts";
import { sellerShopAuditRoutes } from "./routes/seller/audit.ts";
import { sellerDeliverySlotRoutes } from "./routes/seller/delivery-slots.ts";
import { sellerIntelligenceRoutes } from "./routes/seller/intelligence.ts";
import { inventoryImportRoutes } from "./routes/seller/inventory-import.ts";
import { sellerLocationRoutes } from "./routes/seller/locations.ts";
import { sellerOrderRoutes } from "./routes/seller/orders.ts";
import { sellerPickupRoutes } from "./routes/seller/pickup.ts";
import { sellerProductRoutes } from "./routes/seller/products.ts";
import { productStockRoutes, stockRoutes } from "./routes/seller/stock/index.ts";
import { stockRequestRoutes } from "./routes/seller/stock-requests.ts";
import { sellerTransactionRoutes } from "./routes/seller/transactions.ts";
import { shopBranchRoutes } from "./routes/shops/branches.ts";
import { deliverySlotRoutes } from "./routes/shops/delivery-slots.ts";
import { sellerShopRoutes, shopRoutes } from "./routes/shops/index.ts";
import { payoutRoutes } from "./routes/shops/payouts.ts";
import { sellerShopSettingsRoutes, shopSettingsRoutes } from "./routes/shops/settings.ts";
import { staffInvitationRoutes } from "./routes/shops/staff-invitations.ts";
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
  app.route("/v1/shops", payoutRoutes);
  app.route("/v1/seller/shops", sellerShopRoutes);
  app.route("/v1/seller/shops", sellerShopAuditRoutes);
  app.route("/v1/seller/shops", sellerDeliverySlotRoutes);
  app.route("/v1/shops", deliverySlotRoutes);
  app.route("/v1/shops", shopSettingsRoutes);
  app.route("/v1/shops", shopBranchRoutes);
  app.route("/v1/seller/shops", sellerShopSettingsRoutes);
  app.route("/v1/seller/shops", sellerLocationRoutes);
  app.route("/v1/staff-invitations", staffInvitationRoutes);
  app.route("/v1", catalogRoutes);
  app.route("/v1/seller/products", sellerProductRoutes);
  app.route("/v1/seller/products", productStockRoutes);
  app.route("/v1/seller/stock", stockRoutes);
  app.route("/v1/seller/stock-requests", stockRequestRoutes);
  app.route("/v1/seller/inventory", inventoryImportRoutes);
  app.route("/v1/seller/transactions", sellerTransactionRoutes);
  app.route("/v1/seller/analytics", sellerAnalyticsRoutes);
  app.route("/v1/seller/analytics", sellerIntelligenceRoutes);
  app.route("/v1/admin/categories", adminCategoryRoutes);
  app.route("/v1/admin/users", adminUserRoutes);
  app.route("/v1/admin/audit", adminAuditRoutes);
  app.route("/v1/admin/complaints", adminComplaintRoutes);
  app.route("/v1/admin", adminRoutes);
  app.route("/v1/notifications", notificationRoutes);
  app.route("/v1/webhooks", webhookRoutes);
  app.route("/v1/auctions", auctionRoutes);
  app.route("/v1/seller/auctions", sellerAuctionRoutes);
  app.route("/v1/orders", orderPayRoutes);
  app.route("/v1/orders", orderRoutes);
  app.route("/v1/seller/orders", sellerOrderRoutes);
  app.route("/v1/seller/orders", sellerPickupRoutes);
  app.route("/v1/admin/orders", adminOrderRoutes);
  app.route("/v1/cart", cartRoutes);
  app.route("/v1/wishlist", wishlistRoutes);
  app.route("/v1/checkout", checkoutRoutes);
  app.route("/v1/complaints", complaintRoutes);
  app.route("/v1/feedback", feedbackRoutes);
  app.route("/v1/conversations", conversationRoutes);
  app.route("/v1/shops", shopFeedbackRoutes);
  app.route("/v1/orders", orderFeedbackRoutes);
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
