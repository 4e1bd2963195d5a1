import { Hono } from "hono";
import type { AppEnv } from "../../../http/context.ts";
import { requireViewer } from "../../session.ts";
import { sellerAnalyticsPages } from "./analytics.ts";
import { chartScript } from "./charts.ts";
import { dashboardPages } from "./dashboard.ts";
import { sellerOrderPages } from "./orders.ts";
import { sellerReceiptPages } from "./receipts.ts";
import { sellerSettingsPages } from "./settings.ts";
import { sellerStockPages } from "./stock.ts";
import { sellerTeamPages } from "./team.ts";
import { sellerUploadPages } from "./uploads.ts";

/**
 * The seller's pages (issue 14); each page module of this folder is mounted here. Sellers only
 * (admins pass, as in the API); within a shop, each page asks the services, which check the
 * viewer's role there (requireShopPermission): another shop is a 404, a missing right a 403.
 */
export const sellerPages = new Hono<AppEnv>()
  .use("/seller", requireViewer("seller"))
  .use("/seller/*", requireViewer("seller"))
  .route("/", chartScript)
  .route("/", dashboardPages)
  .route("/", sellerOrderPages)
  .route("/", sellerAnalyticsPages)
  .route("/", sellerStockPages)
  .route("/", sellerSettingsPages)
  .route("/", sellerTeamPages)
  .route("/", sellerUploadPages)
  .route("/", sellerReceiptPages);
