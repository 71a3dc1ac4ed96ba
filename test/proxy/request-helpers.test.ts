import { describe, expect, test } from "bun:test";
import { connectionOptions, declaredLength } from "../../src/proxy/request-helpers.ts";

describe("declaredLength", () => {
  const h = (v: string | null) => new Headers(v === null ? {} : { "content-length": v });
  test("absent, a number, identical repeats as Headers joins them", () => {
    expect(declaredLength(h(null))).toBeNull();
    expect(declaredLength(h("42"))).toBe(42);
    expect(declaredLength(h("5, 5"))).toBe(5);
  });
  test("anything else is NaN (the pipeline answers 400)", () => {
    for (const v of ["5, 6", "+5", "5x", "", "1e3", "9999999999999999"]) expect(declaredLength(h(v))).toBeNaN();
  });
});

describe("connectionOptions", () => {
  test("names listed besides close / keep-alive / upgrade, lower-cased", () => {
    expect(connectionOptions(null)).toBeUndefined();
    expect(connectionOptions("keep-alive")).toBeUndefined();
    expect(connectionOptions("Upgrade, close")).toBeUndefined();
    expect([...connectionOptions("close, X-Foo , x-bar")!]).toEqual(["x-foo", "x-bar"]);
  });
});
