import { createRouter } from "../../http/app.ts";
import { adminFeedbackRoutes } from "./feedback.ts";
import { adminOperationRoutes } from "./operations.ts";
import { adminOrderReadRoutes } from "./orders.ts";
import { adminShopRoutes } from "./shops.ts";

/** `/v1/admin`: every route under it requires the admin role (set on each route). */
export const adminRoutes = createRouter()
  .route("/shops", adminShopRoutes)
  .route("/orders", adminOrderReadRoutes)
  .route("/feedback", adminFeedbackRoutes)
  .route("/", adminOperationRoutes);
