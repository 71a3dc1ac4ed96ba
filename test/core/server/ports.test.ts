import { describe, expect, test } from "bun:test";
import { assignPorts, portOf, resetPorts, sharedPort } from "../../../src/core/server/ports.ts";

describe("sharedPort", () => {
  test("port 0 becomes the port assigned to that service's listener; fixed ports never change", () => {
    resetPorts();
    expect(sharedPort("proxy", 0)).toBe(0);
    assignPorts("proxy", ["http 127.0.0.1:8080", "https [::1]:8443"]);
    expect(sharedPort("proxy", 0)).toBe(8080);
    expect(sharedPort("proxy", 0, 1)).toBe(8443);
    expect(sharedPort("proxy", 9000)).toBe(9000);
    expect(sharedPort("dns", 0)).toBe(0);
    expect(portOf("unix /tmp/x.sock")).toBeUndefined();
    resetPorts();
  });
});
