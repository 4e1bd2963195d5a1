import { like } from "drizzle-orm";
import { notifications } from "../../../src/db/schema/index.ts";
import { withDb } from "../../helpers/db.ts";
import { type ApiResponse, api, type Problem } from "../../helpers/http.ts";

export interface StockAlertBody {
  id: string;
  productId: string;
  sku: string;
  locationId: string;
  locationCode: string | null;
  kind: "low_stock" | "out_of_stock";
  threshold: number | null;
  availableAtRaise: number;
  raisedMovementId: string;
  clearedAt: string | null;
  clearedMovementId: string | null;
  acknowledgedAt: string | null;
}

/** `GET /v1/seller/stock/alerts?<qs>`. */
export function alertsOf(
  token: string,
  qs: string,
): Promise<ApiResponse<{ items: StockAlertBody[]; nextCursor: string | null } & Problem>> {
  return api("GET", `/v1/seller/stock/alerts?${qs}`, { token });
}

/** The notifications an alert's raising movement sent, by notification kind (`stock.low`, …). */
export function alertNotices(kind: string, movementId: string) {
  return withDb((db) =>
    db
      .select({ userId: notifications.userId, kind: notifications.kind })
      .from(notifications)
      .where(like(notifications.dedupeKey, `${kind}:${movementId}:%`)),
  );
}
