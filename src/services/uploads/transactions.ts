/**
 * A transactions upload's rows: `sku,quantity,unit_price,sold_at[,customer_email,
 * customer_phone,customer_name,location]`, each recorded as an offline sale (source `import`)
 * through the same service as quick entry, so the units leave stock through the product's
 * object with the same checks. Each row's sale is keyed by upload and row: applied again (a
 * redelivered message, a retry after a fault) it finds the first sale, never takes stock twice.
 */
import type { Upload } from "../../db/schema/uploads.ts";
import type { ServiceContext } from "../context.ts";
import { MAX_SALE_QUANTITY, recordSale } from "../sales/transactions.ts";
import { type CsvRow, clip, RowCheck } from "./csv.ts";
import { failed, type RowOutcome, type RunScope, refusalOf } from "./outcome.ts";

/** The sale service's fields and the CSV columns they come from. */
const COLUMNS: Record<string, string> = {
  sku: "sku",
  productId: "sku",
  quantity: "quantity",
  unitPriceMinor: "unit_price",
  soldAt: "sold_at",
  locationId: "location",
  customer: "customer_email",
  "customer.email": "customer_email",
  "customer.phone": "customer_phone",
  "customer.name": "customer_name",
};

/** The idempotency key of one row's effect: the same for every run of the upload. */
export const rowKey = (upload: Pick<Upload, "id">, row: number) => `upload:${upload.id}:${row}`;

/** Applies one transactions row of the run. */
export function saleRows(
  ctx: ServiceContext,
  { upload, digits, locations }: RunScope,
): (csv: CsvRow) => Promise<RowOutcome> {
  return async (csv) => {
    const check = new RowCheck(csv);
    const sku = check.required("sku", 64);
    const quantity = check.wholeNumber("quantity", 1, MAX_SALE_QUANTITY);
    const unitPriceMinor = check.optional("unit_price", (c) => check.amount(c, digits));
    const soldAt = check.instant("sold_at");
    const locationId = check.optional("location", (c) => {
      const code = csv.cell(c);
      return (
        locations.get(code) ?? check.fail(c, `no location of this shop has code ${clip(code)}`)
      );
    });
    const customer = Object.fromEntries(
      (["email", "phone", "name"] as const)
        .map((k) => [k, csv.cell(`customer_${k}`)] as const)
        .filter(([, v]) => v !== ""),
    );
    if (sku === null || quantity === null || soldAt === null || check.errors.length > 0) {
      return failed(check.errors);
    }
    try {
      const { sale } = await recordSale(
        ctx,
        upload.createdBy,
        {
          shopId: upload.shopId,
          sku,
          quantity,
          soldAt,
          ...(unitPriceMinor == null ? {} : { unitPriceMinor }),
          ...(locationId == null ? {} : { locationId }),
          ...(Object.keys(customer).length > 0 ? { customer } : {}),
        },
        rowKey(upload, csv.row),
        "import",
      );
      return { status: "succeeded", resultId: sale.id };
    } catch (err) {
      const errors = refusalOf(err, csv.row, COLUMNS, { INSUFFICIENT_STOCK: "quantity" });
      if (!errors) throw err;
      return failed(errors);
    }
  };
}
