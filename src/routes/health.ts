import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../http/app.ts";
import { checkHealth } from "../services/health.ts";

const Check = z.object({
  status: z.enum(["ok", "down", "disabled"]),
  latencyMs: z.number(),
  error: z.string().optional(),
});
const Health = z
  .object({
    status: z.enum(["ok", "degraded", "down"]),
    checks: z.object({ postgres: Check, redis: Check, durableObject: Check }),
  })
  .openapi("Health");

const health = createRoute({
  method: "get",
  path: "/health",
  tags: ["ops"],
  summary: "Postgres, Redis and a Durable Object, each with its status and latency",
  responses: {
    200: {
      description: "Everything answers (Redis may be disabled or degraded)",
      content: { "application/json": { schema: Health } },
    },
    503: {
      description: "Postgres or the Durable Object is down",
      content: { "application/json": { schema: Health } },
    },
  },
});

export const healthRoutes = createRouter().openapi(health, async (c) => {
  const services = c.get("services");
  const report = await checkHealth({ db: () => services.db, redis: services.redis, env: c.env });
  c.header("cache-control", "no-store");
  return report.status === "down" ? c.json(report, 503) : c.json(report, 200);
});
