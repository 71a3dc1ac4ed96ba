/**
 * Real clients against a real TLS server: Bun.serve with a certificate from certificateFor, the
 * local CA as the only trust root. openssl verify / s_client, curl --cacert and fetch({ tls: { ca } }).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { App } from "../../src/core/app.ts";
import { certificateFor, ensureLocalCa, tlsModule, type CertificateBundle } from "../../src/tls/index.ts";
import { issueLeaf } from "../../src/tls/issue.ts";
import { tempProject } from "../harness.ts";

const HOSTS = ["app.test", "*.app.test", "localhost", "127.0.0.1", "::1"];
let bundle: CertificateBundle;
let server: ReturnType<typeof Bun.serve>;
let dir: string;
let caFile: string;
let app: App;

/** Async on purpose: the server lives in this process, so a blocking spawn would deadlock it. */
async function run(argv: string[], stdin?: string) {
  const p = Bun.spawn(argv, { stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe", timeout: 15_000 });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out: out + err };
}

beforeAll(async () => {
  const p = tempProject();
  dir = p.dir;
  app = new App({ modules: [tlsModule], configPath: p.config, env: {}, logLevel: "silent" });
  bundle = await certificateFor(app, HOSTS);
  caFile = join(dir, "ca.pem");
  writeFileSync(caFile, bundle.ca);
  writeFileSync(join(dir, "leaf.pem"), bundle.cert);
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { cert: bundle.cert, key: bundle.key }, fetch: (req) => new Response(`hello ${new URL(req.url).hostname}`) });
});

afterAll(() => {
  server?.stop(true);
  app?.close();
});

describe("issued certificates with real clients", async () => {
  test("openssl verify accepts the leaf against the CA, for each host", async () => {
    for (const [flag, value] of [["-verify_hostname", "app.test"], ["-verify_hostname", "x.app.test"], ["-verify_ip", "127.0.0.1"], ["-verify_ip", "::1"]]) {
      const r = await run(["openssl", "verify", "-CAfile", caFile, "-purpose", "sslserver", flag!, value!, join(dir, "leaf.pem")]);
      expect(r.out).toContain(": OK");
    }
    const wrong = await run(["openssl", "verify", "-CAfile", caFile, "-verify_hostname", "other.test", join(dir, "leaf.pem")]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.out).toContain("hostname mismatch");
  });

  test("openssl s_client completes a verified handshake with SNI", async () => {
    const r = await run(
      ["openssl", "s_client", "-connect", `127.0.0.1:${server.port}`, "-servername", "app.test", "-CAfile", caFile, "-verify_return_error", "-verify_hostname", "app.test", "-brief"],
      "",
    );
    expect(r.out).toContain("Verification: OK");
    expect(r.code).toBe(0);
  });

  test("curl --cacert trusts it for a DNS name, a wildcard name and an IP", async () => {
    for (const host of ["app.test", "deep.app.test"]) {
      const r = await run(["curl", "-sS", "--cacert", caFile, "--resolve", `${host}:${server.port}:127.0.0.1`, `https://${host}:${server.port}/`]);
      expect(r.out).toBe(`hello ${host}`);
    }
    expect((await run(["curl", "-sS", "--cacert", caFile, `https://127.0.0.1:${server.port}/`])).out).toBe("hello 127.0.0.1");
  });

  test("curl refuses a name the certificate does not cover, and refuses without the CA", async () => {
    const other = await run(["curl", "-sS", "--cacert", caFile, "--resolve", `other.test:${server.port}:127.0.0.1`, `https://other.test:${server.port}/`]);
    expect(other.code).not.toBe(0);
    const untrusted = await run(["curl", "-sS", `https://127.0.0.1:${server.port}/`], undefined);
    expect(untrusted.code).toBe(60); // CURLE_PEER_FAILED_VERIFICATION
  });

  test("fetch with tls.ca verifies by name and by IP; without it the request fails", async () => {
    const byName = await fetch(`https://localhost:${server.port}/`, { tls: { ca: bundle.ca } });
    expect(await byName.text()).toBe("hello localhost");
    const bySni = await fetch(`https://127.0.0.1:${server.port}/`, { tls: { ca: bundle.ca, serverName: "x.app.test" } });
    expect(await bySni.text()).toBe("hello 127.0.0.1");
    const err = await fetch(`https://127.0.0.1:${server.port}/`).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    const wrongName = await fetch(`https://127.0.0.1:${server.port}/`, { tls: { ca: bundle.ca, serverName: "other.test" } }).catch((e) => e);
    expect(wrongName).toBeInstanceOf(Error);
  });
});

describe("several certificates chosen by SNI (what the proxy's tls: auto serves)", () => {
  test("Bun.serve picks each host's certificate; curl verifies both against the CA", async () => {
    const a = await certificateFor(app, ["a.test"]);
    const b = await certificateFor(app, ["b.test", "*.b.test"], { keyType: "rsa_2048" });
    using sni = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: [
        { serverName: "a.test", cert: a.cert, key: a.key },
        { serverName: "b.test", cert: b.cert, key: b.key },
        { serverName: "*.b.test", cert: b.cert, key: b.key },
      ],
      fetch: (req) => new Response(new URL(req.url).hostname),
    });
    for (const host of ["a.test", "b.test", "x.b.test"]) {
      const r = await run(["curl", "-sS", "--cacert", caFile, "--resolve", `${host}:${sni.port}:127.0.0.1`, `https://${host}:${sni.port}/`]);
      expect(r.out).toBe(host);
    }
    const shown = await run(["openssl", "s_client", "-connect", `127.0.0.1:${sni.port}`, "-servername", "b.test", "-CAfile", caFile, "-verify_return_error", "-brief"], "");
    expect(shown.out).toContain("Peer certificate: O = securely development certificate, CN = b.test");
    expect(shown.out).toContain("Verification: OK");
  });
});

describe("IPv6 and mutual TLS", () => {
  test("a server on [::1] is verified by its IPv6 SAN", async () => {
    using v6 = Bun.serve({ hostname: "::1", port: 0, tls: { cert: bundle.cert, key: bundle.key }, fetch: () => new Response("v6") });
    expect((await run(["curl", "-sS", "--cacert", caFile, `https://[::1]:${v6.port}/`])).out).toBe("v6");
    expect(await (await fetch(`https://[::1]:${v6.port}/`, { tls: { ca: bundle.ca } })).text()).toBe("v6");
  });

  test("a --client certificate from the same CA passes a server that requires one; none is refused", async () => {
    const { ca } = ensureLocalCa(app);
    const client = issueLeaf(ca, ["client.test"], { days: 1, keyType: "ecdsa_p256", now: Date.now(), client: true });
    writeFileSync(join(dir, "client.pem"), client.certPem);
    writeFileSync(join(dir, "client-key.pem"), client.keyPem);
    using mtls = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: bundle.cert, key: bundle.key, ca: bundle.ca, requestCert: true, rejectUnauthorized: true },
      fetch: () => new Response("authenticated"),
    });
    const url = `https://127.0.0.1:${mtls.port}/`;
    const ok = await run(["curl", "-sS", "--cacert", caFile, "--cert", join(dir, "client.pem"), "--key", join(dir, "client-key.pem"), url]);
    expect(ok.out).toBe("authenticated");
    const none = await run(["curl", "-sS", "--cacert", caFile, url]);
    expect(none.code).not.toBe(0);
  });
});

