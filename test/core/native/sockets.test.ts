/** libc sockets through bun:ffi: sockaddr encoding both ways, listeners, and their error messages. */
import { describe, expect, test } from "bun:test";
import { createSocket } from "node:dgram";
import { loadLibc } from "../../../src/core/native/libc.ts";
import { openListener, peerOf, sockaddr } from "../../../src/core/native/sockets.ts";

const libc = loadLibc();

describe("sockaddr", () => {
  test("IPv4 and IPv6 encode and decode back, with the port in network order", () => {
    expect(peerOf(sockaddr("192.0.2.7", 5300), 0)).toEqual({ address: "192.0.2.7", port: 5300 });
    expect(peerOf(sockaddr("2001:db8::1", 53), 0)).toEqual({ address: "2001:db8::1", port: 53 });
    expect(peerOf(sockaddr("::1", 1), 0)).toEqual({ address: "::1", port: 1 });
    expect(Array.from(sockaddr("10.0.0.1", 0x1234).subarray(0, 8))).toEqual([2, 0, 0x12, 0x34, 10, 0, 0, 1]);
  });
  test("a name is refused (binding it would mean 0.0.0.0)", () => {
    expect(() => sockaddr("localhost", 53)).toThrow(/"localhost" is not an IP address/);
  });
  test("an IPv4-mapped peer reads as ::ffff:a.b.c.d, as node:dgram reports it", () => {
    expect(peerOf(sockaddr("::ffff:127.0.0.1", 9), 0).address).toBe("::ffff:127.0.0.1");
  });
});

describe.skipIf(!libc)("openListener (Linux)", () => {
  test("port 0 binds a free port", () => {
    const l = openListener(libc!, "udp", "127.0.0.1", 0);
    try {
      expect(l.port).toBeGreaterThan(0);
      expect(l.fd).toBeGreaterThan(2);
    } finally {
      libc!.sys.close(l.fd);
    }
  });
  test("a port held without SO_REUSEPORT fails with the errno named and explained", async () => {
    const holder = createSocket("udp4");
    await new Promise<void>((r) => holder.bind(0, "127.0.0.1", () => r()));
    try {
      expect(() => openListener(libc!, "udp", "127.0.0.1", holder.address().port)).toThrow(/bind udp 127\.0\.0\.1:\d+: EADDRINUSE \(address already in use\)/);
    } finally {
      holder.close();
    }
  });
  test("an address this host does not have fails with EADDRNOTAVAIL", () => {
    expect(() => openListener(libc!, "tcp", "192.0.2.1", 0)).toThrow(/EADDRNOTAVAIL/);
  });
});
