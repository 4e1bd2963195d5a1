import type { Context } from "hono";
import { Hono } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import type { AppEnv } from "../../../http/context.ts";
import { queueProducers } from "../../../http/queues.ts";
import { serviceContext } from "../../../http/service-context.ts";
import {
  type DeadLetterView,
  listDeadLetters,
  replayDeadLetter,
} from "../../../services/admin/operations.ts";
import { alert, type Html } from "../../layout.ts";
import { doneNotice, type FormState, filteredList, json, submit, when } from "./ui.ts";

const BASE = "/console/admin/dead-letters";
const STATUSES = ["open", "resolved"] as const;
/** The queues the API replays to (and filters by); their producers are the Worker's bindings. */
const QUEUES = ["stripe-events", "notifications"] as const;

/** Why a letter cannot be replayed, when it cannot. */
const notReplayable = (d: DeadLetterView) =>
  d.resolvedAt ? `Replayed ${when(d.resolvedAt)}.` : "Its body lost a secret to redaction.";

/** One dead letter: where it came from, its body as stored (secrets redacted), replay. */
function letterCard(d: DeadLetterView): Html {
  const id = `letter-${d.id}`;
  return html`<article class="card" id="${id}" aria-labelledby="${id}-title">
  <h2 id="${id}-title">${d.queue} <span class="badge ${d.status}">${d.status}</span></h2>
  <dl class="facts">
    <dt>Received</dt><dd>${when(d.receivedAt)}</dd>
    <dt>Message</dt><dd>${d.messageId}</dd>
    <dt>Attempts</dt><dd>${d.attempts}</dd>
  </dl>
  <details><summary>Body (secrets redacted)</summary>${json(d.body)}</details>
  ${
    d.replayable
      ? html`<form method="post" action="${BASE}/${d.id}/replay">
    <button type="submit">Replay<span class="sr-only"> message ${d.messageId}</span></button>
  </form>`
      : html`<p class="hint">${notReplayable(d)}</p>`
  }
</article>`;
}

function letterList(
  c: Context<AppEnv>,
  refused?: { state: FormState; status: ContentfulStatusCode },
): Promise<Response> {
  return filteredList(c, {
    title: "Dead letters",
    path: BASE,
    filters: [
      { name: "status", label: "Status", options: STATUSES },
      { name: "queue", label: "Queue", options: QUEUES },
    ],
    schema: z.object({ status: z.enum(STATUSES).optional(), queue: z.enum(QUEUES).optional() }),
    defaults: { status: "open" },
    load: (ctx, q, p) => listDeadLetters(ctx, { ...q, ...p }),
    empty: "No dead letters match.",
    notice: refused
      ? alert(refused.state.message)
      : doneNotice(c, { replayed: "The message is back on its queue." }),
    ...(refused ? { status: refused.status } : {}),
    render: (items) => html`<div class="stack">${items.map(letterCard)}</div>`,
  });
}

/**
 * Dead letters: what the queues gave up on, each with its redacted body, replayed once to its
 * queue (the service refuses twice, or a body that lost a secret). There is no discard: the
 * service has none, and a letter left open harms nothing.
 */
export const adminDeadLetterPages = new Hono<AppEnv>()
  .get("/admin/dead-letters", (c) => letterList(c))
  .post("/admin/dead-letters/:id/replay", (c) =>
    submit(c, {
      what: "dead letter",
      act: (id) => replayDeadLetter(serviceContext(c), queueProducers(c.env), id),
      done: () => `${BASE}?done=replayed`,
      refused: (_id, state, status) => letterList(c, { state, status }),
    }),
  );
