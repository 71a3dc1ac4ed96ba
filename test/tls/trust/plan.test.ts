import { describe, expect, test } from "bun:test";
import { shellLine, trustName, trustPlan } from "../../../src/tls/trust/plan.ts";
import type { TrustContext } from "../../../src/tls/trust/types.ts";

/** A pretend machine: these paths exist, these folders list these children, these commands are on PATH. */
function machine(paths: string[], opts: { dirs?: Record<string, string[]>; tools?: string[] } = {}): TrustContext {
  return {
    caPath: "/home/u/.securely/tls/ca.pem",
    name: "securely-0123456789abcdef",
    serial: "5a5a",
    home: "/home/u",
    exists: (p) => paths.includes(p),
    list: (d) => opts.dirs?.[d] ?? [],
    which: (c) => (opts.tools ?? []).includes(c),
  };
}

const argv = (plan: ReturnType<typeof trustPlan>) => plan.steps.map((s) => s.command.join(" "));

describe("trustPlan on Linux", () => {
  test.each([
    ["/usr/local/share/ca-certificates", "debian", "install -m 0644 /home/u/.securely/tls/ca.pem /usr/local/share/ca-certificates/securely-0123456789abcdef.crt", "update-ca-certificates"],
    ["/etc/pki/ca-trust/source/anchors", "fedora", "install -m 0644 /home/u/.securely/tls/ca.pem /etc/pki/ca-trust/source/anchors/securely-0123456789abcdef.pem", "update-ca-trust extract"],
    ["/etc/ca-certificates/trust-source/anchors", "arch", "install -m 0644 /home/u/.securely/tls/ca.pem /etc/ca-certificates/trust-source/anchors/securely-0123456789abcdef.crt", "trust extract-compat"],
    ["/usr/share/pki/trust/anchors", "opensuse", "install -m 0644 /home/u/.securely/tls/ca.pem /usr/share/pki/trust/anchors/securely-0123456789abcdef.pem", "update-ca-certificates"],
  ])("%s → %s", (dir, store, install, update) => {
    const plan = trustPlan("linux", machine([dir]));
    expect(plan.store).toBe(store);
    expect(argv(plan)).toEqual([install, update]);
    expect(plan.steps.every((s) => s.root)).toBe(true);
    expect(plan.notes[0]).toBe("Node.js and Bun do not read the system store: export NODE_EXTRA_CA_CERTS=/home/u/.securely/tls/ca.pem");
  });

  test("untrust removes the anchor and rebuilds from scratch", () => {
    expect(argv(trustPlan("linux", machine(["/usr/local/share/ca-certificates"]), true))).toEqual([
      "rm -f /usr/local/share/ca-certificates/securely-0123456789abcdef.crt",
      "update-ca-certificates --fresh",
    ]);
  });

  test("an unknown distribution gets a note instead of guessed commands", () => {
    const plan = trustPlan("linux", machine([]));
    expect(plan.store).toBe("unknown");
    expect(plan.steps).toEqual([]);
    expect(plan.notes[0]).toContain("no known system trust store found");
  });

  test("NSS databases (Chromium, Firefox profiles) get certutil steps when certutil exists", () => {
    const m = machine(["/usr/local/share/ca-certificates", "/home/u/.pki/nssdb/cert9.db", "/home/u/.mozilla/firefox/abc.default/cert9.db"], {
      dirs: { "/home/u/.mozilla/firefox": ["abc.default", "Crash Reports"] },
      tools: ["certutil"],
    });
    const plan = trustPlan("linux", m);
    expect(argv(plan).slice(2)).toEqual([
      "certutil -d sql:/home/u/.pki/nssdb -A -t C,, -n securely-0123456789abcdef -i /home/u/.securely/tls/ca.pem",
      "certutil -d sql:/home/u/.mozilla/firefox/abc.default -A -t C,, -n securely-0123456789abcdef -i /home/u/.securely/tls/ca.pem",
    ]);
    expect(plan.steps.slice(2).some((s) => s.root)).toBe(false);
    expect(argv(trustPlan("linux", m, true)).slice(2)[0]).toBe("certutil -d sql:/home/u/.pki/nssdb -D -n securely-0123456789abcdef");
  });

  test("NSS databases without certutil: a note with the package to install", () => {
    const plan = trustPlan("linux", machine(["/home/u/.pki/nssdb/cert9.db"]));
    expect(plan.notes.some((n) => n.includes("install libnss3-tools"))).toBe(true);
  });
});

describe("trustPlan on macOS and Windows", () => {
  test("macOS: System keychain with trustRoot; untrust removes it", () => {
    expect(argv(trustPlan("macos", machine([])))).toEqual([
      "security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain /home/u/.securely/tls/ca.pem",
    ]);
    expect(argv(trustPlan("macos", machine([]), true))).toEqual(["security remove-trusted-cert -d /home/u/.securely/tls/ca.pem"]);
  });
  test("Windows: the user's Root store, no elevation", () => {
    const plan = trustPlan("windows", machine([]));
    expect(argv(plan)).toEqual(["certutil -user -addstore Root /home/u/.securely/tls/ca.pem"]);
    expect(plan.steps[0]!.root).toBe(false);
    expect(argv(trustPlan("windows", machine([]), true))).toEqual(["certutil -user -delstore Root 5a5a"]);
  });
});

describe("helpers", () => {
  test("shellLine adds sudo for root steps unless already root, and quotes", () => {
    const step = { description: "", command: ["install", "/a b/ca.pem", "/x"], root: true };
    expect(shellLine(step, false)).toBe("sudo install '/a b/ca.pem' /x");
    expect(shellLine(step, true)).toBe("install '/a b/ca.pem' /x");
  });
  test("trustName is securely- and 16 hex digits of the fingerprint", () => {
    expect(trustName("AB:CD:EF:01:23:45:67:89:AA:BB")).toBe("securely-abcdef0123456789");
  });
});
