import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../src/http/context.ts";
import { problem } from "../../src/http/problem.ts";

describe("problem+json", () => {
  it("keeps its standard members when a detail is named like one", async () => {
    const app = new Hono<AppEnv>().get("/x", (c) =>
      problem(c, "CONFLICT", "It is pending.", {
        status: "pending",
        type: "about:blank",
        title: "overwritten",
        code: "NOT_CONFLICT",
        reason: "STILL_PENDING",
      }),
    );
    const res = await app.request("/x");
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({
      type: "https://souk.dev/problems/conflict",
      title: "Conflict",
      status: 409,
      code: "CONFLICT",
      detail: "It is pending.",
      instance: "/x",
      reason: "STILL_PENDING",
    });
  });
});
