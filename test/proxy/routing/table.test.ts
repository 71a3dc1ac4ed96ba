import { describe, expect, test } from "bun:test";
import { applySchema } from "../../../src/core/config/schema.ts";
import { routeSchema } from "../../../src/proxy/config.ts";
import { compileRoute, RouteTable } from "../../../src/proxy/routing/table.ts";
import { normalizeHost } from "../../../src/proxy/routing/host.ts";
import type { RouteConfig } from "../../../src/proxy/types.ts";

function route(r: Record<string, unknown>): RouteConfig {
  const issues: any[] = [];
  const v = applySchema(routeSchema, { respond: { status: 200 }, ...r }, [], issues) as RouteConfig;
  if (issues.length) throw new Error(JSON.stringify(issues));
  return v;
}
function table(...rs: Record<string, unknown>[]) {
  return new RouteTable(rs.map((r, i) => compileRoute(route({ name: `r${i}`, ...r }), i, null)));
}
const req = (o: Partial<{ method: string; host: string; path: string; query: string; headers: Record<string, string>; clientIp: string }>) => ({
  method: o.method ?? "GET",
  host: o.host ?? "example.com",
  path: o.path ?? "/",
  query: o.query ?? "",
  headers: new Headers(o.headers ?? {}),
  clientIp: o.clientIp ?? "127.0.0.1",
});

describe("RouteTable.find", () => {
  test("exact and wildcard hosts; wildcard does not match the bare domain", () => {
    const t = table({ match: { host: ["api.example.com"] } }, { match: { host: ["*.example.com"] } }, {});
    expect(t.find(req({ host: "api.example.com" }))!.name).toBe("r0");
    expect(t.find(req({ host: "a.b.example.com" }))!.name).toBe("r1");
    expect(t.find(req({ host: "example.com" }))!.name).toBe("r2");
  });
  test("path prefix matches on segment boundaries", () => {
    const t = table({ match: { path: "/api" } });
    expect(t.find(req({ path: "/api" }))).toBeDefined();
    expect(t.find(req({ path: "/api/x" }))).toBeDefined();
    expect(t.find(req({ path: "/apix" }))).toBeUndefined();
  });
  test("path regex, methods, headers, query and client ip", () => {
    const t = table(
      { match: { path_regex: "^/v[0-9]+/" } },
      { match: { methods: ["POST"] } },
      { match: { headers: { "x-canary": "1" } } },
      { match: { headers: { "x-user": "/^adm/" } } },
      { match: { query: { debug: "*" } } },
      { match: { client_ip: ["10.0.0.0/8", "::1"] } },
    );
    expect(t.find(req({ path: "/v2/x" }))!.name).toBe("r0");
    expect(t.find(req({ method: "POST" }))!.name).toBe("r1");
    expect(t.find(req({ headers: { "x-canary": "1" } }))!.name).toBe("r2");
    expect(t.find(req({ headers: { "x-user": "admin" } }))!.name).toBe("r3");
    expect(t.find(req({ headers: { "x-user": "bob" } }))).toBeUndefined();
    expect(t.find(req({ query: "a=1&debug" }))!.name).toBe("r4");
    expect(t.find(req({ clientIp: "10.1.2.3" }))!.name).toBe("r5");
    expect(t.find(req({ clientIp: "::ffff:10.1.2.3" }))!.name).toBe("r5");
    expect(t.find(req({ clientIp: "::1" }))!.name).toBe("r5");
    expect(t.find(req({ clientIp: "192.168.1.1" }))).toBeUndefined();
  });
  test("first matching route wins, in config order", () => {
    const t = table({ match: { path: "/" } }, { match: { path: "/api" } });
    expect(t.find(req({ path: "/api/x" }))!.name).toBe("r0");
  });
  test("host is normalized: case, port, trailing dot", () => {
    expect(normalizeHost("API.Example.com:8080")).toBe("api.example.com");
    expect(normalizeHost("example.com.")).toBe("example.com");
    expect(normalizeHost("[::1]:80")).toBe("[::1]");
  });
});
