import { describe, expect, it } from "vitest";
import { errorMessage, isIpcError } from ".";

describe("ipc errors", () => {
  it("recognises the backend's {code, message} shape only", () => {
    expect(isIpcError({ code: "path", message: "x" })).toBe(true);
    expect(isIpcError({ code: 1, message: "x" })).toBe(false);
    expect(isIpcError({ message: "x" })).toBe(false);
    expect(isIpcError(null)).toBe(false);
    expect(isIpcError("text")).toBe(false);
  });

  it("turns any rejection into a readable message", () => {
    expect(errorMessage({ code: "internal", message: "boom" })).toBe("boom");
    expect(errorMessage(new Error("bad"))).toBe("bad");
    expect(errorMessage("plain")).toBe("plain");
    expect(errorMessage(42)).toMatch(/backend/);
  });
});
