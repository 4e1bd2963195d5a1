import { Hono } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import type { AppEnv } from "../../http/context.ts";
import { serviceContext } from "../../http/service-context.ts";
import { parseOr422 } from "../../lib/input.ts";
import { placeBid } from "../../services/auctions/bidding.ts";
import { getAuction } from "../../services/auctions/queries.ts";
import type { PublicAuction } from "../../services/auctions/views.ts";
import { NotFound } from "../../services/errors.ts";
import { refusalOf } from "../errors.ts";
import {
  alert,
  type FieldMessages,
  type Html,
  isPartial,
  minorPerMajor,
  money,
  page,
} from "../layout.ts";
import { requireViewer, viewerOf } from "../session.ts";

/** The bid form's amount, typed in major units ("12.50"), as the service's `maxMinor`. */
const bidForm = (currency: string) =>
  z.object({
    amount: z
      .string()
      .regex(/^\d{1,9}([.,]\d{1,3})?$/, "must be an amount such as 12.50")
      .transform((v) => Math.round(Number(v.replace(",", ".")) * minorPerMajor(currency))),
  });

interface BidState {
  /** The bidder's own pseudonym in this auction: the live script compares the leader to it. */
  alias?: string;
  message?: string;
  ok?: boolean;
  errors?: FieldMessages;
  typed?: string;
}

function bidPanel(a: PublicAuction, signedIn: boolean, state: BidState = {}): Html {
  const action = `/console/auctions/${a.id}/bids`;
  if (!signedIn) {
    return html`<div id="bid-panel"><p><a href="/console/sign-in?next=${encodeURIComponent(`/console/auctions/${a.id}`)}">Sign in</a> to bid.</p></div>`;
  }
  const error = state.errors?.amount ?? state.errors?.maxMinor;
  return html`<div id="bid-panel"${state.alias ? html` data-my-alias="${state.alias}"` : ""}>
  ${alert(state.message, state.ok ? "ok" : "error")}
  <form method="post" action="${action}" hx-post="${action}" hx-target="#bid-panel" hx-swap="outerHTML" class="inline">
    <label for="bid-amount">Your maximum (${a.currency})</label>
    <input id="bid-amount" name="amount" inputmode="decimal" autocomplete="off" value="${state.typed ?? ""}"${
      error ? html` aria-invalid="true" aria-describedby="bid-amount-error"` : ""
    }>
    <button type="submit">Bid</button>
  </form>
  ${error ? html`<p class="error" id="bid-amount-error">${error}</p>` : ""}
  <p class="hint">The system bids for you, one increment at a time, up to your maximum.</p>
</div>`;
}

/**
 * A live auction: the page renders what the auction's object says now, then a script (an Alpine
 * component, public/console/console.js) watches the public live socket (`/v1/auctions/{id}/live`,
 * read-only, no token) and moves price, leader, bid count and the end, which a bid in the soft
 * close pushes out. Bids go through the console's form (the bidding service, the session's user).
 */
export const auctionPages = new Hono<AppEnv>()
  .get("/auctions/:id", async (c) => {
    const id = c.req.param("id");
    if (!z.uuid().safeParse(id).success) throw new NotFound("auction", id);
    const a = await getAuction(serviceContext(c), id);
    return page(c, {
      title: a.product.title,
      body: html`<section class="card auction" x-data="auctionLive" data-auction-id="${a.id}" data-currency="${a.currency}" data-ends-at="${a.endsAt}" data-status="${a.status}" data-price-minor="${a.priceMinor}" data-leader="${a.leaderAlias ?? ""}" data-bids="${a.bidCount}" data-minimum="${a.minimumNextBidMinor}" aria-labelledby="live-heading">
  <h2 id="live-heading">Live auction <span class="badge" x-text="status">${a.status}</span></h2>
  <p class="muted">Sold by ${a.shop.name}</p>
  <dl class="facts" aria-live="polite">
    <dt>Current price</dt><dd class="price" data-live="price" x-text="price">${money(a.priceMinor, a.currency)}</dd>
    <dt>Leader</dt><dd data-live="leader" x-text="leader">${a.leaderAlias ?? "no bids yet"}</dd>
    <dt>Bids</dt><dd data-live="bids" x-text="bids">${a.bidCount}</dd>
    <dt>Next bid from</dt><dd x-text="minimum">${money(a.minimumNextBidMinor, a.currency)}</dd>
    <dt>Ends</dt><dd><time datetime="${a.endsAt}" x-text="countdown">${a.endsAt}</time></dd>
  </dl>
  <p class="hint">A bid in the last ${a.softCloseSeconds} s moves the end.</p>
  <p class="alert error" role="alert" x-show="outbid" x-cloak>You have been outbid.</p>
  ${bidPanel(a, Boolean(viewerOf(c)))}
</section>`,
    });
  })
  .post("/auctions/:id/bids", requireViewer(), async (c) => {
    const id = c.req.param("id");
    const user = viewerOf(c);
    if (!user || !z.uuid().safeParse(id).success) throw new NotFound("auction", id);
    const ctx = serviceContext(c);
    const a = await getAuction(ctx, id);
    const form = await c.req.parseBody();
    const typed = typeof form.amount === "string" ? form.amount : "";
    try {
      const { amount } = parseOr422(bidForm(a.currency), { amount: typed });
      const r = await placeBid(ctx, id, user.id, { maxMinor: amount });
      const message =
        r.outcome === "leading"
          ? `You lead at ${money(r.priceMinor, a.currency)} (your alias: ${r.alias}).`
          : `Outbid at once: another maximum is higher. Now ${money(r.priceMinor, a.currency)}.`;
      const panel = bidPanel(a, true, { alias: r.alias, message, ok: r.outcome === "leading" });
      if (!isPartial(c)) return c.redirect(`/console/auctions/${id}`, 303);
      return c.html(panel, 201);
    } catch (err) {
      if (!(err instanceof Error) || !isPartial(c)) throw err;
      const r = await refusalOf(err, c);
      if (r.status !== 409 && r.status !== 422 && r.status !== 403) throw err;
      const errors = Object.keys(r.fields).length ? r.fields : { amount: r.detail };
      return c.html(bidPanel(a, true, { errors, typed }), r.status);
    }
  });
