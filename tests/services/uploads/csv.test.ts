import { describe, expect, it } from "vitest";
import { type CsvRow, RowCheck, readTable } from "../../../src/services/uploads/csv.ts";

const row = (cells: Record<string, string>): CsvRow => ({ row: 7, cell: (c) => cells[c] ?? "" });

describe("reading an upload's CSV", () => {
  it("reads rows by column name in any order, numbering them by line, the header being 1", () => {
    const table = readTable(
      "quantity,SKU,sold_at,unit_price\n2,MUG,2026-06-01,\n\n1,CUP\n",
      "transactions",
    );
    expect(table.fileProblems).toEqual([]);
    expect(table.total).toBe(2);
    expect(table.rows.map((r) => [r.row, r.cell("sku"), r.cell("quantity")])).toEqual([
      [2, "MUG", "2"],
    ]);
    expect(table.rowProblems).toEqual([
      { row: 4, field: null, message: "has 2 cells; the header has 4" },
    ]);
  });

  it("names each header problem: a missing column, an unknown one", () => {
    const { fileProblems } = readTable("sku,qty,location\nA,1,WH\n", "inventory");
    expect(fileProblems.map((p) => [p.row, p.field])).toEqual([
      [1, "qty"],
      [1, "quantity"],
    ]);
  });

  it("turns amounts into minor units without floats, and refuses more decimals than the currency has", () => {
    const check = new RowCheck(
      row({ eur: "12.5", cents: "0.07", yen: "1500", bad: "12.505", jpy: "15.5" }),
    );
    expect([check.amount("eur", 2), check.amount("cents", 2), check.amount("yen", 0)]).toEqual([
      1250, 7, 1500,
    ]);
    expect([check.amount("bad", 2), check.amount("jpy", 0)]).toEqual([null, null]);
    expect(check.errors.map((e) => [e.row, e.field])).toEqual([
      [7, "bad"],
      [7, "jpy"],
    ]);
  });

  it("reads a date as midnight UTC and a date-time only with its offset", () => {
    const check = new RowCheck(
      row({ day: "2026-03-01", at: "2026-03-01T14:30:00+02:00", local: "2026-03-01T14:30:00" }),
    );
    expect(check.instant("day")).toBe("2026-03-01T00:00:00.000Z");
    expect(check.instant("at")).toBe("2026-03-01T12:30:00.000Z");
    expect(check.instant("local")).toBeNull();
    expect(check.errors.map((e) => e.field)).toEqual(["local"]);
  });
});
