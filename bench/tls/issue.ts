/**
 * Certificate issuance cost: securely (in-process and CLI) beside mkcert, the anchor.
 * Bounded: each measurement stops at its count or after ~3 s, whichever comes first.
 *
 *   npx bun bench/tls/issue.ts [path/to/securely-binary]
 *
 * mkcert comes from apt (`apt-get install mkcert`); it runs with CAROOT in a temp folder and
 * never with -install, so no trust store is touched.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "../../src/core/app.ts";
import { createCa } from "../../src/tls/ca.ts";
import { certificateFor, tlsModule } from "../../src/tls/index.ts";
import { issueLeaf } from "../../src/tls/issue.ts";
import type { KeyType } from "../../src/tls/types.ts";
import forge from "node-forge";

const work = mkdtempSync(join(tmpdir(), "securely-bench-tls-"));
const results: Record<string, number> = {};

async function measure(label: string, max: number, fn: (i: number) => unknown | Promise<unknown>): Promise<number> {
  const start = performance.now();
  let n = 0;
  while (n < max && performance.now() - start < 3000) await fn(n++);
  const ms = (performance.now() - start) / n;
  results[label] = ms;
  console.log(`${label.padEnd(48)} ${ms.toFixed(3).padStart(9)} ms/op  (n=${n})`);
  return ms;
}

function run(argv: string[], env: Record<string, string> = {}): void {
  const p = Bun.spawnSync(argv, { cwd: work, env: { ...process.env, ...env } as Record<string, string>, stdout: "ignore", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} failed: ${p.stderr}`);
}

try {
  console.log("# in-process issuance (key generation + X.509 build + signature)");
  for (const kt of ["ecdsa_p256", "ecdsa_p384", "rsa_2048", "rsa_3072"] as KeyType[]) {
    const ca = createCa(join(work, `ca-${kt}`), { days: 3650, keyType: kt, now: Date.now() });
    await measure(`issueLeaf ${kt}`, kt.startsWith("ecdsa") ? 500 : 40, (i) => issueLeaf(ca, [`h${i}.test`, `*.h${i}.test`, "127.0.0.1"], { days: 365, keyType: kt, now: Date.now() }));
  }

  console.log("# the alternative not taken: forge alone (its keygen, which calls node's, + its JS RSA signature)");
  const fca = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  await measure("forge-only leaf rsa_2048", 40, (i) => {
    const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = "01";
    cert.validity.notBefore = new Date();
    cert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
    cert.setSubject([{ shortName: "CN", value: `f${i}.test` }]);
    cert.setIssuer([{ shortName: "CN", value: "forge CA" }]);
    cert.setExtensions([{ name: "subjectAltName", altNames: [{ type: 2, value: `f${i}.test` }] }]);
    cert.sign(fca.privateKey, forge.md.sha256.create());
    return forge.pki.certificateToPem(cert);
  });

  console.log("# certificateFor (proxy tls: auto), store-backed");
  const cfg = join(work, "securely.config.yaml");
  writeFileSync(cfg, `store:\n  path: ${join(work, "store.db")}\n`);
  const app = new App({ modules: [tlsModule], configPath: cfg, env: {}, logLevel: "silent" });
  await certificateFor(app, ["warm.test"]);
  await measure("certificateFor miss (new hosts, ecdsa_p256)", 500, (i) => certificateFor(app, [`m${i}.test`]));
  await measure("certificateFor hit (cached)", 2000, () => certificateFor(app, ["warm.test"]));
  app.close();

  const bin = process.argv[2];
  if (bin && Bun.which("mkcert")) {
    console.log("# CLI, one certificate per process (CA already exists)");
    const env = { SECURELY_STORE__PATH: join(work, "cli.db"), CAROOT: join(work, "mkcert-ca") };
    run([bin, "tls:cert", "first.test"], env);
    await measure("securely version (process start-up alone)", 20, () => run([bin, "version"], env));
    run(["mkcert", "first.test"], env);
    const s = await measure("securely tls:cert (ecdsa_p256)", 20, (i) => run([bin, "tls:cert", `s${i}.test`], env));
    const m = await measure("mkcert -ecdsa", 20, (i) => run(["mkcert", "-ecdsa", `m${i}.test`], env));
    const sr = await measure("securely tls:cert --key-type rsa_2048", 20, (i) => run([bin, "tls:cert", `r${i}.test`, "--key-type", "rsa_2048"], env));
    const mr = await measure("mkcert (rsa_2048, its default)", 20, (i) => run(["mkcert", `n${i}.test`], env));
    console.log(`ratio securely/mkcert time: ecdsa ${(s / m).toFixed(2)}, rsa_2048 ${(sr / mr).toFixed(2)} (< 1 = securely faster)`);
  } else {
    console.log("# CLI comparison skipped: pass a securely binary path and install mkcert");
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
