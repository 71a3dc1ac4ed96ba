/**
 * Linux system trust stores, the four layouts mkcert knows (truststore_linux.go): the CA file goes
 * into the distribution's anchor folder and its update command rebuilds the bundle.
 */
import { join } from "node:path";
import type { TrustContext, TrustStep } from "./types.ts";

interface Layout {
  store: string;
  dir: string;
  ext: string;
  update: string[];
  /** Untrust rebuilds from scratch where the tool needs it to drop a removed anchor. */
  updateAfterRemove: string[];
}

const LAYOUTS: Layout[] = [
  { store: "debian", dir: "/usr/local/share/ca-certificates", ext: ".crt", update: ["update-ca-certificates"], updateAfterRemove: ["update-ca-certificates", "--fresh"] },
  { store: "fedora", dir: "/etc/pki/ca-trust/source/anchors", ext: ".pem", update: ["update-ca-trust", "extract"], updateAfterRemove: ["update-ca-trust", "extract"] },
  { store: "arch", dir: "/etc/ca-certificates/trust-source/anchors", ext: ".crt", update: ["trust", "extract-compat"], updateAfterRemove: ["trust", "extract-compat"] },
  { store: "opensuse", dir: "/usr/share/pki/trust/anchors", ext: ".pem", update: ["update-ca-certificates"], updateAfterRemove: ["update-ca-certificates"] },
];

export function linuxLayout(ctx: TrustContext): Layout | undefined {
  return LAYOUTS.find((l) => ctx.exists(l.dir));
}

/** Where the CA file lands in the system store (undefined on an unknown distribution). */
export function linuxAnchorPath(ctx: TrustContext): string | undefined {
  const l = linuxLayout(ctx);
  return l && join(l.dir, ctx.name + l.ext);
}

export function linuxSteps(ctx: TrustContext, remove: boolean): { store: string; steps: TrustStep[]; notes: string[] } {
  const l = linuxLayout(ctx);
  if (!l) {
    return {
      store: "unknown",
      steps: [],
      notes: [
        `no known system trust store found (looked for ${LAYOUTS.map((x) => x.dir).join(", ")}): add ${ctx.caPath} to your distribution's CA store by hand`,
      ],
    };
  }
  const target = join(l.dir, ctx.name + l.ext);
  const steps: TrustStep[] = remove
    ? [
        { description: `remove the CA from the system store (${l.store})`, command: ["rm", "-f", target], root: true },
        { description: "rebuild the system CA bundle", command: l.updateAfterRemove, root: true },
      ]
    : [
        { description: `add the CA to the system store (${l.store})`, command: ["install", "-m", "0644", ctx.caPath, target], root: true },
        { description: "rebuild the system CA bundle", command: l.update, root: true },
      ];
  return { store: l.store, steps, notes: [] };
}
