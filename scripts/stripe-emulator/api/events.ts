/** Events (`GET /v1/events`, `/v1/events/{id}`) and webhook endpoints (`/v1/webhook_endpoints`). */
import type { ApiContext } from "../core.ts";
import { invalidParam, resourceMissing } from "../errors.ts";
import { LIST_PARAMS, paginate } from "../list.ts";
import type { EventObject, ListObject, WebhookEndpointObject } from "../objects.ts";
import {
  allowParams,
  applyMetadata,
  createdFilter,
  optBool,
  optNullableString,
  optString,
  optStringArray,
  reqString,
} from "../params.ts";
import { endpointObject } from "../webhooks.ts";

export function retrieveEvent(ctx: ApiContext): EventObject {
  allowParams(ctx.params, []);
  return ctx.core.state.events.require(ctx.path.id ?? "", ctx.account);
}

/** Events of the caller's scope, filtered by `type` (with `*` wildcards) or `types[]`. */
export function listEvents(ctx: ApiContext): ListObject<EventObject> {
  allowParams(ctx.params, [...LIST_PARAMS, "type", "types", "delivery_success"]);
  const type = optString(ctx.params, "type");
  const types = optStringArray(ctx.params, "types");
  if (type && types) {
    throw invalidParam("You may only specify one of these parameters: type, types.", "types");
  }
  const pattern = type
    ? new RegExp(`^${type.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`)
    : null;
  const inRange = createdFilter(ctx.params);
  const undelivered = optBool(ctx.params, "delivery_success") === false;
  const items = ctx.core.state.events.list(
    ctx.account,
    (e) =>
      (!pattern || pattern.test(e.type)) &&
      (!types || types.includes(e.type)) &&
      (!undelivered || e.pending_webhooks > 0) &&
      inRange(e.created),
  );
  return paginate(items, ctx.params, "/v1/events");
}

function requirePlatform(ctx: ApiContext): void {
  if (ctx.account) {
    throw invalidParam(
      "Webhook endpoints belong to the platform: drop the Stripe-Account header.",
      "account",
    );
  }
}

export function createWebhookEndpoint(ctx: ApiContext): WebhookEndpointObject {
  const p = ctx.params;
  allowParams(p, ["url", "enabled_events", "connect", "description", "metadata", "api_version"]);
  requirePlatform(ctx);
  const url = reqString(p, "url");
  if (!URL.canParse(url))
    throw invalidParam("Invalid URL: must be an absolute http(s) URL", "url", "url_invalid");
  const events = optStringArray(p, "enabled_events");
  if (!events || events.length === 0) {
    throw invalidParam(
      "Missing required param: enabled_events.",
      "enabled_events",
      "parameter_missing",
    );
  }
  const endpoint = ctx.core.dispatcher.add({
    url,
    connect: optBool(p, "connect") ?? false,
    enabledEvents: events,
    description: optString(p, "description") ?? null,
    metadata: applyMetadata(p),
  });
  // As in Stripe, the signing secret is shown only in the answer to the create call.
  return endpointObject(endpoint, true);
}

function requireEndpoint(ctx: ApiContext) {
  requirePlatform(ctx);
  const id = ctx.path.id ?? "";
  const endpoint = ctx.core.dispatcher.endpoints.get(id);
  if (!endpoint) throw resourceMissing("webhook_endpoint", id, "webhook_endpoint");
  return endpoint;
}

export function retrieveWebhookEndpoint(ctx: ApiContext): WebhookEndpointObject {
  allowParams(ctx.params, []);
  return endpointObject(requireEndpoint(ctx), false);
}

export function updateWebhookEndpoint(ctx: ApiContext): WebhookEndpointObject {
  const p = ctx.params;
  allowParams(p, ["url", "enabled_events", "disabled", "description", "metadata"]);
  const endpoint = requireEndpoint(ctx);
  const url = optString(p, "url");
  if (url !== undefined) {
    if (!URL.canParse(url))
      throw invalidParam("Invalid URL: must be an absolute http(s) URL", "url", "url_invalid");
    endpoint.url = url;
  }
  const events = optStringArray(p, "enabled_events");
  if (events && events.length > 0) endpoint.enabledEvents = events;
  const disabled = optBool(p, "disabled");
  if (disabled !== undefined) endpoint.status = disabled ? "disabled" : "enabled";
  const description = optNullableString(p, "description");
  if (description !== undefined) endpoint.description = description;
  endpoint.metadata = applyMetadata(p, endpoint.metadata);
  return endpointObject(endpoint, false);
}

export function deleteWebhookEndpoint(ctx: ApiContext): {
  id: string;
  object: "webhook_endpoint";
  deleted: true;
} {
  allowParams(ctx.params, []);
  const endpoint = requireEndpoint(ctx);
  ctx.core.dispatcher.remove(endpoint.id);
  return { id: endpoint.id, object: "webhook_endpoint", deleted: true };
}

export function listWebhookEndpoints(ctx: ApiContext): ListObject<WebhookEndpointObject> {
  allowParams(ctx.params, ["limit", "starting_after", "ending_before"]);
  requirePlatform(ctx);
  const items = [...ctx.core.dispatcher.endpoints.values()]
    .reverse()
    .map((e) => endpointObject(e, false));
  return paginate(items, ctx.params, "/v1/webhook_endpoints");
}
