import { describe, expect, test } from "bun:test";
import { orderByDependencies } from "../../../src/core/server/run-services.ts";
import type { Service } from "../../../src/core/server/service.ts";

describe("orderByDependencies", () => {
  const svc = (name: string, dependsOn?: string[]): Service => ({ name, kind: "background", dependsOn, start: async () => {}, stop: async () => {} });
  test("a service starts after the ones it depends on; unknown names are ignored; cycles are named", () => {
    expect(orderByDependencies([svc("proxy", ["tls", "cache"]), svc("tls"), svc("metrics")]).map((s) => s.name)).toEqual(["tls", "proxy", "metrics"]);
    expect(() => orderByDependencies([svc("a", ["b"]), svc("b", ["a"])])).toThrow("service dependency cycle: a → b → a");
  });
});
