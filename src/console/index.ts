import { Hono } from "hono";
import { csrf } from "hono/csrf";
import type { AppEnv } from "../http/context.ts";
import { NotFound } from "../services/errors.ts";
import { consoleError } from "./errors.ts";
import { adminPages } from "./pages/admin/index.ts";
import { adminShopPages } from "./pages/admin-shops.ts";
import { auctionPages } from "./pages/auctions.ts";
import { authPages } from "./pages/auth.ts";
import { browsePages } from "./pages/browse.ts";
import { buyerPages } from "./pages/buyer/index.ts";
import { inventoryPages } from "./pages/inventory.ts";
import { orderPages } from "./pages/orders.ts";
import { sellerPages } from "./pages/seller/index.ts";
import { stockHistoryPages } from "./pages/stock-history.ts";
import { consoleSession, homeOf, viewerOf } from "./session.ts";

/**
 * `/console`: Souk's web pages, server-rendered by this Worker (issue 14). A floor beside the
 * JSON routes: a page parses its form or query, calls the same services with the request's
 * `serviceContext`, and renders HTML, so it can do nothing its user could not do through the
 * API. Every form is checked by hono/csrf (a state-changing request from another origin is
 * refused before any handler runs); the session is the API's own, in cookies (./session.ts).
 */
export const consoleRoutes = new Hono<AppEnv>()
  .onError(consoleError)
  .use("*", csrf())
  .use("*", consoleSession)
  .get("/", (c) => c.redirect(homeOf(viewerOf(c)), 303))
  .route("/", authPages)
  .route("/", browsePages)
  .route("/", inventoryPages)
  .route("/", adminShopPages)
  .route("/", auctionPages)
  .route("/", orderPages)
  .route("/", stockHistoryPages)
  .route("/", buyerPages)
  .route("/", sellerPages)
  .route("/", adminPages)
  // Anything else under /console is a page that does not exist: the 404 as a page, not JSON.
  .all("*", (c) => {
    throw new NotFound("page", c.req.path);
  });
