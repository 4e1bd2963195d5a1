import { describe, expect, it } from "vitest";
import {
  canonicalTimeZone,
  isOpenAt,
  localClock,
  openingHoursSchema,
} from "../../../src/services/shops/hours.ts";

describe("shop hours", () => {
  it("accepts IANA zones in any case and refuses offsets, abbreviations and inventions", () => {
    expect(canonicalTimeZone("asia/karachi")).toBe("Asia/Karachi");
    expect(canonicalTimeZone("Asia/Jerusalem")).toBe("Asia/Jerusalem");
    expect(canonicalTimeZone("+02:00")).toBeNull();
    expect(canonicalTimeZone("Mars/Olympus_Mons")).toBeNull();
  });

  it("reads the wall clock of the zone, daylight saving included", () => {
    // 2026-07-03 is a Friday; Jerusalem is UTC+3 in summer, Karachi UTC+5 all year.
    const at = new Date("2026-07-03T06:30:00Z");
    expect(localClock(at, "Asia/Jerusalem")).toEqual({ day: "fri", minutes: 9 * 60 + 30 });
    expect(localClock(at, "Asia/Karachi")).toEqual({ day: "fri", minutes: 11 * 60 + 30 });
    // In winter Jerusalem is UTC+2.
    expect(localClock(new Date("2026-01-02T06:30:00Z"), "Asia/Jerusalem").minutes).toBe(
      8 * 60 + 30,
    );
  });

  it("is open from the opening minute up to, not at, the closing minute", () => {
    const hours = { fri: [{ open: "09:00", close: "14:00" }] };
    const zone = "Asia/Jerusalem";
    expect(isOpenAt(hours, zone, new Date("2026-07-03T05:59:00Z"))).toBe(false);
    expect(isOpenAt(hours, zone, new Date("2026-07-03T06:00:00Z"))).toBe(true);
    expect(isOpenAt(hours, zone, new Date("2026-07-03T10:59:00Z"))).toBe(true);
    expect(isOpenAt(hours, zone, new Date("2026-07-03T11:00:00Z"))).toBe(false);
  });

  it("closes at midnight with 24:00 and treats a missing day as closed", () => {
    const hours = { sat: [{ open: "20:00", close: "24:00" }] };
    // Saturday 23:59 in UTC; Sunday is not listed.
    expect(isOpenAt(hours, "UTC", new Date("2026-07-04T23:59:00Z"))).toBe(true);
    expect(isOpenAt(hours, "UTC", new Date("2026-07-05T00:00:00Z"))).toBe(false);
  });

  it("refuses intervals out of order and times that are not HH:MM", () => {
    expect(openingHoursSchema.safeParse({ mon: [{ open: "24:00", close: "24:00" }] }).success).toBe(
      false,
    );
    expect(
      openingHoursSchema.safeParse({
        mon: [
          { open: "12:00", close: "14:00" },
          { open: "08:00", close: "10:00" },
        ],
      }).success,
    ).toBe(false);
    expect(openingHoursSchema.safeParse({ mon: [] }).success).toBe(true);
  });
});
