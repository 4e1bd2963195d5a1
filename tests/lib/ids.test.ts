import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { namedUuid, namedUuidv7, UUID_PATTERN, uuidv7, uuidv7Time } from "../../src/lib/ids.ts";

describe("ids", () => {
  it("a UUIDv7 carries the millisecond it was made at, for any 48-bit time", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.string(), async (ms, name) => {
        const id = await namedUuidv7(ms, name);
        expect(id).toMatch(UUID_PATTERN);
        expect(id[14]).toBe("7");
        expect("89ab").toContain(id[19]);
        expect(uuidv7Time(id)).toBe(ms);
      }),
    );
  });

  it("names give the same id every time, and another name another id", async () => {
    expect(await namedUuidv7(1_700_000_000_000, "a")).toBe(
      await namedUuidv7(1_700_000_000_000, "a"),
    );
    expect(await namedUuid("a")).toBe(await namedUuid("a"));
    expect(await namedUuid("a")).not.toBe(await namedUuid("b"));
    expect((await namedUuid("a"))[14]).toBe("8");
  });

  it("ids made in one millisecond still sort in the order they were made", () => {
    const now = Date.now() + 60_000;
    const ids = Array.from({ length: 500 }, () => uuidv7(now));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(uuidv7Time(ids[0] ?? "")).toBe(now);
  });
});
