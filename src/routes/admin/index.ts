import { createRouter } from "../../http/app.ts";
import { adminOperationRoutes } from "./operations.ts";
import { adminShopRoutes } from "./shops.ts";

/** `/v1/admin`: every route under it requires the admin role (set on each route). */
export const adminRoutes = createRouter()
  .route("/shops", adminShopRoutes)
  .route("/", adminOperationRoutes);
