import { describe, expect, test } from "bun:test";
import { fileSafe, hostsKey, isSecondLevelWildcard, normalizeHost, normalizeHosts } from "../../src/tls/hosts.ts";

describe("normalizeHost", () => {
  test.each([
    ["App.Test", "app.test"],
    ["app.test.", "app.test"],
    ["*.App.test", "*.app.test"],
    ["localhost", "localhost"],
    ["my_service.internal", "my_service.internal"],
    ["127.0.0.1", "127.0.0.1"],
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["xn--bcher-kva.test", "xn--bcher-kva.test"],
  ])("accepts %p as %p", (input, out) => {
    expect(normalizeHost(input)).toBe(out);
  });

  test.each([
    ["", "empty"],
    ["bad host", "contains whitespace"],
    ["https://app.test", "looks like a URL"],
    ["app.test:443", "looks like a URL or host:port"],
    ["*", "a bare * matches nothing"],
    ["*.*.test", "whole left-most label"],
    ["a.*.test", "whole left-most label"],
    ["w*.test", "whole left-most label"],
    ["a..test", "empty label"],
    [".app.test", "empty label"],
    ["-app.test", "label '-app'"],
    ["app-.test", "label 'app-'"],
    ["ex!ample.test", "label 'ex!ample'"],
    ["999.1.1.1", "not a valid IPv4 address"],
    ["a".repeat(64) + ".test", "longer than 63 characters"],
    [("a".repeat(60) + ".").repeat(5) + "test", "longer than 253 characters"],
  ])("rejects %p (%s)", (input, why) => {
    let err: any;
    try {
      normalizeHost(input);
    } catch (e) {
      err = e;
    }
    expect(err?.code).toBe("TLS_INVALID_HOST");
    expect(err.message).toContain(why);
    expect(err.exitCode).toBe(2);
  });
});

describe("normalizeHosts", () => {
  test("drops duplicates after normalising and keeps the order", () => {
    expect(normalizeHosts(["B.test", "a.test", "b.test.", "[::1]", "::1"])).toEqual(["b.test", "a.test", "::1"]);
  });
  test("needs at least one host", () => {
    expect(() => normalizeHosts([])).toThrow("no hosts given");
  });
});

describe("helpers", () => {
  test("hostsKey ignores order", () => {
    expect(hostsKey(["b.test", "a.test"])).toBe(hostsKey(["a.test", "b.test"]));
  });
  test("isSecondLevelWildcard flags *.test only", () => {
    expect([isSecondLevelWildcard("*.test"), isSecondLevelWildcard("*.app.test"), isSecondLevelWildcard("app.test")]).toEqual([true, false, false]);
  });
  test("fileSafe names wildcards and IPv6 as mkcert does", () => {
    expect([fileSafe("*.app.test"), fileSafe("::1"), fileSafe("app.test")]).toEqual(["_wildcard.app.test", "__1", "app.test"]);
  });
});
