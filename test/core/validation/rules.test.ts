import { describe, expect, test } from "bun:test";
import { parseDuration, parseRules, validateValue } from "../../../src/core/validation/rules.ts";

describe("Laravel-style rules", () => {
  test("required fails on missing, passes on present", () => {
    expect(validateValue(undefined, "required|integer")).toEqual({ ok: false, expected: "a value", missing: true });
    expect(validateValue(3, "required|integer")).toEqual({ ok: true, value: 3 });
  });

  test("type rules coerce strings from env overrides", () => {
    expect(validateValue("42", "integer")).toEqual({ ok: true, value: 42 });
    expect(validateValue("true", "boolean")).toEqual({ ok: true, value: true });
    expect(validateValue("off", "boolean")).toEqual({ ok: true, value: false });
    expect(validateValue("1.5", "numeric")).toEqual({ ok: true, value: 1.5 });
  });

  test("min/max measure numbers as values and strings as lengths", () => {
    expect(validateValue(0, "integer|min:1")).toEqual({ ok: false, expected: "at least 1" });
    expect(validateValue("ab", "string|min:3")).toEqual({ ok: false, expected: "at least 3 characters" });
    expect(validateValue(5, "integer|between:1,10").ok).toBe(true);
    expect(validateValue(11, "integer|max:10")).toEqual({ ok: false, expected: "at most 10" });
  });

  test("in, regex, ip, url, host_port, listen", () => {
    expect(validateValue("b", "in:a,b").ok).toBe(true);
    expect(validateValue("c", "in:a,b")).toEqual({ ok: false, expected: "one of a, b" });
    expect(validateValue("abc", "regex:/^a.c$/").ok).toBe(true);
    expect(validateValue("::1", "ip").ok).toBe(true);
    expect(validateValue("nope", "ip").ok).toBe(false);
    expect(validateValue("https://x.test/a", "url").ok).toBe(true);
    expect(validateValue("localhost:8080", "host_port").ok).toBe(true);
    expect(validateValue("[::1]:53", "host_port").ok).toBe(true);
    expect(validateValue("localhost", "host_port")).toEqual({ ok: false, expected: "host:port" });
    expect(validateValue("h:70000", "host_port").ok).toBe(false);
    expect(validateValue("/run/securely.sock", "listen").ok).toBe(true);
  });

  test("durations", () => {
    expect(parseDuration("500ms")).toBe(0.5);
    expect(parseDuration("5m")).toBe(300);
    expect(parseDuration(30)).toBe(30);
    expect(parseDuration("soon")).toBeUndefined();
    expect(validateValue("1h", "duration")).toEqual({ ok: true, value: 3600 });
  });

  test("an unknown rule name is a programming error caught at parse time", () => {
    expect(() => parseRules("integer|shiny")).toThrow("unknown validation rule 'shiny'");
  });
});
