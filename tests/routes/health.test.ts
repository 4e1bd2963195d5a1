import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api } from "../helpers/http.ts";

interface Health {
  status: string;
  checks: Record<string, { status: string; latencyMs: number }>;
}

describe("GET /health", () => {
  it("reports Postgres, Redis and a Durable Object, each with status and latency", async () => {
    const res = await api<Health>("GET", "/health");
    expect(res.status).toBe(200);
    expect(res.body.checks.postgres?.status).toBe("ok");
    expect(res.body.checks.durableObject?.status).toBe("ok");
    expect(res.body.checks.redis?.status).toBe(env.UPSTASH_REDIS_REST_URL ? "ok" : "disabled");
    for (const check of Object.values(res.body.checks))
      expect(check.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("puts a request id on every response, echoing a sane incoming one", async () => {
    const res = await api("GET", "/health", { headers: { "x-request-id": "trace-abc-12345" } });
    expect(res.headers.get("x-request-id")).toBe("trace-abc-12345");
    const fresh = await api("GET", "/health");
    expect(fresh.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("API documentation", () => {
  it("serves an OpenAPI 3.1 document that lists the auth routes and the bearer scheme", async () => {
    const res = await api<{
      openapi: string;
      paths: Record<string, unknown>;
      components: { securitySchemes: Record<string, unknown> };
    }>("GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        "/v1/auth/register",
        "/v1/auth/login",
        "/v1/me",
        "/v1/me/addresses/{id}",
        "/health",
      ]),
    );
    expect(res.body.components.securitySchemes.bearer).toBeDefined();
  });

  it("renders the interactive reference at /docs", async () => {
    const res = await api<string>("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(res.body).toContain("/openapi.json");
  });

  it("answers an unknown route with a 404 problem", async () => {
    const res = await api<{ code: string }>("GET", "/v1/nowhere");
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("NOT_FOUND");
  });
});
