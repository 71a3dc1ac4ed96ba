/** Test certificates made with the openssl CLI: a CA, leaf certs for given names, a client cert. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../harness.ts";

function run(args: string[], cwd: string): void {
  const r = Bun.spawnSync(["openssl", ...args], { cwd, stderr: "pipe", stdout: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr.toString()}`);
}

export interface Pki {
  dir: string;
  ca: string;
  /** name → { cert, key } file paths */
  certs: Record<string, { cert: string; key: string }>;
}

/** A CA plus one certificate per name (CN and SAN = name); `client` gets clientAuth usage. */
export function makePki(names: string[]): Pki {
  const dir = tempDir("securely-pki-");
  run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=securely test CA", "-keyout", "ca.key", "-out", "ca.pem"], dir);
  const certs: Pki["certs"] = {};
  for (const name of names) {
    const safe = name.replace(/[^a-z0-9.-]/gi, "_");
    const ext = join(dir, `${safe}.ext`);
    const san = /^\d+\.\d+\.\d+\.\d+$/.test(name) ? `IP:${name}` : `DNS:${name}`;
    writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", `/CN=${name}`, "-keyout", `${safe}.key`, "-out", `${safe}.csr`], dir);
    run(["x509", "-req", "-in", `${safe}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", `${safe}.pem`], dir);
    certs[name] = { cert: join(dir, `${safe}.pem`), key: join(dir, `${safe}.key`) };
  }
  return { dir, ca: join(dir, "ca.pem"), certs };
}
