import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig, MAX_PBKDF2_ITERATIONS } from "../../../src/env.ts";
import {
  hashPassword,
  parsePasswordHash,
  verifyPassword,
} from "../../../src/services/auth/password.ts";

describe("password hashing", () => {
  it("pins PBKDF2 at or below the 100,000 iterations Cloudflare's production runtime accepts", () => {
    expect(MAX_PBKDF2_ITERATIONS).toBeLessThanOrEqual(100_000);
    expect(loadConfig(env).PBKDF2_ITERATIONS).toBeLessThanOrEqual(100_000);
  });

  it("refuses to hash with more iterations than production accepts", async () => {
    await expect(hashPassword("pw-pw-pw-pw", "pepper-pepper-pepper", 100_001)).rejects.toThrow(
      RangeError,
    );
  });

  it("verifies the right password and refuses a wrong one", async () => {
    const phc = await hashPassword("right password", "pepper-pepper-pepper", 10_000);
    expect(await verifyPassword("right password", "pepper-pepper-pepper", phc)).toBe(true);
    expect(await verifyPassword("wrong password", "pepper-pepper-pepper", phc)).toBe(false);
  });

  it("depends on the pepper: the same password with another pepper does not verify", async () => {
    const phc = await hashPassword("right password", "pepper-one-pepper-one", 10_000);
    expect(await verifyPassword("right password", "pepper-two-pepper-two", phc)).toBe(false);
  });

  it("salts: the same password hashes differently twice, and parameters are in the string", async () => {
    const a = await hashPassword("same", "pepper-pepper-pepper", 10_000);
    const b = await hashPassword("same", "pepper-pepper-pepper", 10_000);
    expect(a).not.toBe(b);
    expect(parsePasswordHash(a)?.iterations).toBe(10_000);
  });
});
