import { createRouter } from "../../http/app.ts";
import { sellerAnalyticsRoutes } from "./analytics.ts";
import { sellerAuctionRoutes } from "./auctions.ts";
import { sellerImportRoutes } from "./imports.ts";
import { sellerIntelligenceRoutes } from "./intelligence.ts";
import { inventoryImportRoutes } from "./inventory-import.ts";
import { sellerOrderRoutes } from "./orders.ts";
import { sellerPickupRoutes } from "./pickup.ts";
import { sellerProductRoutes } from "./products.ts";
import { sellerReceiptRoutes } from "./receipts.ts";
import { sellerShopRoutes } from "./shops.ts";
import { productStockRoutes, stockRoutes } from "./stock/index.ts";
import { stockRequestRoutes } from "./stock-requests.ts";
import { sellerTaxReportRoutes } from "./tax-report.ts";
import { sellerTransactionRoutes } from "./transactions.ts";

/** `/v1/seller`: what a shop's team works with; each route checks the caller's shop role. */
export const sellerRoutes = createRouter()
  .route("/shops", sellerShopRoutes)
  .route("/products", createRouter().route("/", sellerProductRoutes).route("/", productStockRoutes))
  .route("/stock", stockRoutes)
  .route("/stock-requests", stockRequestRoutes)
  .route("/inventory", inventoryImportRoutes)
  .route("/transactions", sellerTransactionRoutes)
  .route("/imports", sellerImportRoutes)
  .route("/receipts", sellerReceiptRoutes)
  .route(
    "/analytics",
    createRouter()
      .route("/", sellerAnalyticsRoutes)
      .route("/", sellerIntelligenceRoutes)
      .route("/", sellerTaxReportRoutes),
  )
  .route("/auctions", sellerAuctionRoutes)
  .route("/orders", createRouter().route("/", sellerOrderRoutes).route("/", sellerPickupRoutes));
