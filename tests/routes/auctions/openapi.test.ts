import { describe, expect, it } from "vitest";
import { api } from "../../helpers/http.ts";

describe("auction routes in /openapi.json", () => {
  it("documents every auction, seller-auction, admin-user and pay route", async () => {
    const res = await api<{ paths: Record<string, Record<string, unknown>> }>(
      "GET",
      "/openapi.json",
    );
    expect(res.status).toBe(200);
    const documented = Object.entries(res.body.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented).toEqual(
      expect.arrayContaining([
        "GET /v1/auctions",
        "GET /v1/auctions/{id}",
        "GET /v1/auctions/{id}/bids",
        "POST /v1/auctions/{id}/bids",
        "POST /v1/auctions/{id}/buy-now",
        "GET /v1/auctions/{id}/live",
        "POST /v1/auctions/{id}/second-chance/accept",
        "POST /v1/auctions/{id}/second-chance/decline",
        "POST /v1/seller/auctions",
        "GET /v1/seller/auctions",
        "GET /v1/seller/auctions/{id}",
        "POST /v1/seller/auctions/{id}/second-chance",
        "POST /v1/seller/auctions/{id}/cancel",
        "GET /v1/admin/users/{id}",
        "POST /v1/admin/users/{id}/block",
        "POST /v1/admin/users/{id}/unblock",
        "POST /v1/orders/{id}/pay",
      ]),
    );
    const buyNow = res.body.paths["/v1/auctions/{id}/buy-now"]?.post as {
      parameters?: Array<{ name: string; in: string }>;
    };
    expect(buyNow.parameters?.map((p) => `${p.in}:${p.name}`)).toContain("header:idempotency-key");
  });
});
