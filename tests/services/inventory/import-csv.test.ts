import { describe, expect, it } from "vitest";
import {
  MAX_IMPORT_ROWS,
  parseCsv,
  readInventoryCsv,
} from "../../../src/services/inventory/import.ts";

describe("parseCsv", () => {
  it("splits records on LF and CRLF, skips blank lines, and keeps each record's first line", () => {
    const { records, problem } = parseCsv("a,b\r\n1,2\n\n3,4\n");
    expect(problem).toBeNull();
    expect(records).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 2, fields: ["1", "2"] },
      { line: 4, fields: ["3", "4"] },
    ]);
  });

  it("reads quoted fields with commas, doubled quotes and line breaks", () => {
    const { records } = parseCsv('sku,note\n"A,1","say ""hi""\nthere"\nB,plain');
    expect(records).toEqual([
      { line: 1, fields: ["sku", "note"] },
      { line: 2, fields: ["A,1", 'say "hi"\nthere'] },
      { line: 4, fields: ["B", "plain"] },
    ]);
  });

  it("drops a byte-order mark and reports an unterminated quote on the line it opened", () => {
    expect(parseCsv("\uFEFFsku\nX").records[0]?.fields).toEqual(["sku"]);
    expect(parseCsv('sku\n"open\nX').problem).toEqual({
      row: 2,
      column: null,
      reason: "unterminated quote",
    });
  });

  it("keeps a record of empty fields (it has the wrong width, not nothing)", () => {
    expect(parseCsv("a,b\n,\n").records).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 2, fields: ["", ""] },
    ]);
  });
});

describe("readInventoryCsv", () => {
  it("reads the columns in any order, case-insensitively, with an optional threshold", () => {
    const { rows, problems } = readInventoryCsv(
      "Quantity,SKU,Location,Threshold\n12,MUG-1,WH,3\n0,MUG-2,BR1,\n",
    );
    expect(problems).toEqual([]);
    expect(rows).toEqual([
      { row: 2, sku: "MUG-1", location: "WH", quantity: 12, threshold: 3 },
      { row: 3, sku: "MUG-2", location: "BR1", quantity: 0, threshold: undefined },
    ]);
  });

  it("lists every bad row with its number and reason", () => {
    const { problems } = readInventoryCsv(
      [
        "sku,location,quantity,threshold",
        "A,WH,5,1",
        "B,WH,-3,",
        "C,WH,2.5,",
        "D,WH,ten,",
        ",WH,1,",
        "E,,1,",
        "F,WH,1",
        "G,WH,1,-1",
        "H,WH,3000000000,",
      ].join("\n"),
    );
    expect(problems.map((p) => [p.row, p.column])).toEqual([
      [3, "quantity"],
      [4, "quantity"],
      [5, "quantity"],
      [6, "sku"],
      [7, "location"],
      [8, null],
      [9, "threshold"],
      [10, "quantity"],
    ]);
    expect(problems[0]?.reason).toMatch(/negative/);
    expect(problems[1]?.reason).toMatch(/whole number/);
    expect(problems[5]?.reason).toMatch(/3 columns; the header has 4/);
  });

  it("refuses a missing or unknown header, an empty file, and too many rows", () => {
    expect(readInventoryCsv("").problems[0]?.reason).toMatch(/header row is required/);
    expect(readInventoryCsv("sku,quantity\nA,1").problems).toEqual([
      { row: 1, column: "location", reason: 'the header lacks "location"' },
    ]);
    expect(readInventoryCsv("sku,location,quantity,price\nA,WH,1,9").problems[0]?.reason).toMatch(
      /unknown column "price"/,
    );
    expect(readInventoryCsv("sku,location,quantity\n").problems[0]?.reason).toMatch(/no data rows/);
    const big = `sku,location,quantity\n${"A,WH,1\n".repeat(MAX_IMPORT_ROWS + 1)}`;
    expect(readInventoryCsv(big).problems[0]?.reason).toMatch(/at most 5000/);
  });
});
