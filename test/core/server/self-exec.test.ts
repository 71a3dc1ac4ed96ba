import { describe, expect, test } from "bun:test";
import { selfCommand, withoutDaemonFlag } from "../../../src/core/server/self-exec.ts";

describe("selfCommand", () => {
  test("a compiled binary re-executes itself alone; bun re-executes bun + the script", () => {
    expect(selfCommand(["bun", "/$bunfs/root/securely", "serve"], "/usr/local/bin/securely")).toEqual(["/usr/local/bin/securely"]);
    expect(selfCommand(["/x/bun", "/repo/src/main.ts", "serve"], "/x/bun")).toEqual(["/x/bun", "/repo/src/main.ts"]);
  });
  test("withoutDaemonFlag drops -d, --daemon and the d of a short cluster", () => {
    expect(withoutDaemonFlag(["serve", "-d", "-c", "a.yaml"])).toEqual(["serve", "-c", "a.yaml"]);
    expect(withoutDaemonFlag(["serve", "--daemon", "-u"])).toEqual(["serve", "-u"]);
    expect(withoutDaemonFlag(["serve", "-ud"])).toEqual(["serve", "-u"]);
    expect(withoutDaemonFlag(["serve", "--", "-d"])).toEqual(["serve", "--", "-d"]);
  });
});
