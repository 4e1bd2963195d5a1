import { Hono } from "hono";
import type { AppEnv } from "../../../http/context.ts";
import { cartPages } from "./cart.ts";
import { checkoutPages } from "./checkout.ts";
import { messagePages } from "./messages.ts";
import { notificationPages } from "./notifications.ts";
import { paymentPages } from "./payment.ts";
import { wishlistPages } from "./wishlist.ts";

/** The buyer's pages (issue 14); each page module of this folder is mounted here. */
export const buyerPages = new Hono<AppEnv>()
  .route("/", cartPages)
  .route("/", paymentPages)
  .route("/", checkoutPages)
  .route("/", wishlistPages)
  .route("/", messagePages)
  .route("/", notificationPages);
