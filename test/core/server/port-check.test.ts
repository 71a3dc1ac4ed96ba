import { describe, expect, test } from "bun:test";
import { foreignListeners, parseListen } from "../../../src/core/server/port-check.ts";

describe("port check", () => {
  test("parseListen reads the protocol and port of a listening line", () => {
    expect(parseListen("http 127.0.0.1:8080")).toEqual({ proto: "tcp", port: 8080 });
    expect(parseListen("udp [::1]:5353")).toEqual({ proto: "udp", port: 5353 });
    expect(parseListen("unix /run/x.sock")).toBeUndefined();
  });
  test("our own socket is not a conflict; another process's on the same port is", async () => {
    using own = Bun.serve({ hostname: "127.0.0.1", port: 0, reusePort: true, fetch: () => new Response("") });
    expect(foreignListeners([`http 127.0.0.1:${own.port}`], [process.pid])).toEqual([]);
    const clash = foreignListeners([`http 127.0.0.1:${own.port}`], [1]);
    expect(clash).toEqual([{ listen: `http 127.0.0.1:${own.port}`, pid: process.pid }]);
  });
});
