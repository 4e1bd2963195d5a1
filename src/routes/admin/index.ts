import { createRouter } from "../../http/app.ts";
import { adminAuditRoutes } from "./audit.ts";
import { adminCategoryRoutes } from "./categories.ts";
import { adminComplaintRoutes } from "./complaints.ts";
import { adminFeedbackRoutes } from "./feedback.ts";
import { adminOperationRoutes } from "./operations.ts";
import { adminOrderRoutes } from "./orders.ts";
import { adminShopRoutes } from "./shops.ts";
import { adminUploadRoutes } from "./uploads.ts";
import { adminUserRoutes } from "./users.ts";

/** `/v1/admin`: every route under it requires the admin role (set on each route). */
export const adminRoutes = createRouter()
  .route("/categories", adminCategoryRoutes)
  .route("/users", adminUserRoutes)
  .route("/audit", adminAuditRoutes)
  .route("/complaints", adminComplaintRoutes)
  .route("/shops", adminShopRoutes)
  .route("/orders", adminOrderRoutes)
  .route("/feedback", adminFeedbackRoutes)
  .route("/uploads", adminUploadRoutes)
  .route("/", adminOperationRoutes);
