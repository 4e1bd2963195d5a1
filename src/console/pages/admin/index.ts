import { Hono } from "hono";
import type { AppEnv } from "../../../http/context.ts";
import { requireViewer } from "../../session.ts";
import { adminComplaintPages } from "./complaints.ts";
import { adminDeadLetterPages } from "./dead-letters.ts";
import { adminHomePages } from "./home.ts";
import { adminPaymentIssuePages } from "./payment-issues.ts";
import { adminRecordPages } from "./records.ts";
import { adminUserPages } from "./users.ts";

/**
 * The admin's pages (issue 14); each page module of this folder is mounted here. Every one needs
 * the admin role, checked as the API's requireRole checks it: another signed-in user gets the
 * API's 403, a visitor without a session is sent to sign in. (The shop queue is ../admin-shops.ts.)
 */
export const adminPages = new Hono<AppEnv>()
  .use("/admin", requireViewer("admin"))
  .use("/admin/*", requireViewer("admin"))
  .route("/", adminHomePages)
  .route("/", adminComplaintPages)
  .route("/", adminUserPages)
  .route("/", adminPaymentIssuePages)
  .route("/", adminDeadLetterPages)
  .route("/", adminRecordPages);
