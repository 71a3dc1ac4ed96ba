/**
 * sdk:types: the embedded declarations are exactly what the generator derives from today's
 * sources, they name every value the runtime "securely" module holds, the command writes them,
 * and tsc accepts user files that use the SDK correctly and rejects ones that misuse it.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, runSecurely, tempDir, tempProject } from "../../harness.ts";
import { OUTPUT, generateSdkTypes } from "../../../src/core/sdk/generate.ts";
import { sdkExports } from "../../../src/core/sdk/plugin.ts";
import { modules } from "../../../src/main.ts";

const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const checked = readFileSync(join(ROOT, OUTPUT), "utf8");

test(`${OUTPUT} is what the generator makes of the sources (regenerate: npx bun src/core/sdk/generate.ts)`, () => {
  expect(generateSdkTypes(ROOT)).toBe(checked);
}, 60_000);

test("every runtime sdk export is declared as a value, and no value is declared that the runtime lacks", () => {
  const declaredValues = [...checked.matchAll(/^ {4}export (?:class|function|const) (\w+)/gm)].map((m) => m[1]!);
  const aliased = [...checked.matchAll(/^ {4}export \{ \w+ as (\w+) \};/gm)].map((m) => m[1]!);
  expect(new Set([...declaredValues, ...aliased])).toEqual(new Set(Object.keys(sdkExports(modules))));
  for (const name of ["defineWorkflow", "defineActivity", "NonRetryableError", "defineJob", "rateLimited", "withoutOverlapping", "throttlesExceptions", "defineProxyHooks"]) expect(declaredValues).toContain(name);
  for (const type of ["WorkflowContext", "ActivityContext", "JobContext", "JobDefinition", "ProxyHooks", "HookContext"]) expect(checked).toMatch(new RegExp(`^ {4}export (interface|type) ${type}\\b`, "m"));
});

describe("securely sdk:types", () => {
  test("writes securely.d.ts next to the config file and reports it", async () => {
    const p = tempProject();
    const r = await runSecurely(["sdk:types", "--json"], { env: p.env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.file).toBe(join(p.dir, "securely.d.ts"));
    expect(out.exports).toContain("defineWorkflow");
    const written = readFileSync(join(p.dir, "securely.d.ts"), "utf8");
    expect(written).toMatch(/^\/\/ securely \d+\.\d+\.\d+/);
    expect(written.endsWith(checked)).toBe(true);
  });

  test("--out FILE writes there, --out - prints to stdout", async () => {
    const dir = tempDir();
    const r = await runSecurely(["sdk:types", "--out", "types/sdk.d.ts"], { cwd: dir, env: { SECURELY_CONF: "" } });
    expect(r.code).toBe(1); // folder types/ does not exist yet
    expect(r.stderr).toContain(`folder ${join(dir, "types")} does not exist`);
    mkdirSync(join(dir, "types"));
    const ok = await runSecurely(["sdk:types", "--out", "types/sdk.d.ts"], { cwd: dir, env: { SECURELY_CONF: "" } });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`wrote ${join(dir, "types/sdk.d.ts")}`);
    expect(readFileSync(join(dir, "types/sdk.d.ts"), "utf8")).toContain('declare module "securely" {');
    const stdout = await runSecurely(["sdk:types", "--out", "-"], { cwd: dir });
    expect(stdout.code).toBe(0);
    expect(stdout.stdout.endsWith(checked)).toBe(true);
    expect(existsSync(join(dir, "securely.d.ts"))).toBe(false);
  });
});

const GOOD: Record<string, string> = {
  "workflows.ts": `
import { defineActivity, defineWorkflow, NonRetryableError, type WorkflowContext } from "securely";

export const charge = defineActivity("charge", async (input: { amount: number }, ctx) => {
  ctx.heartbeat({ step: 1 });
  if (input.amount <= 0) throw new NonRetryableError("amount must be positive");
  return { receipt: ctx.idempotencyKey, attempt: ctx.attempt };
}, { retry: { maximumAttempts: 3, initialInterval: "1s" }, startToCloseTimeout: "30s" });

export const order = defineWorkflow("order", async (ctx: WorkflowContext, input: { amount: number }) => {
  const r = await ctx.activity<{ receipt: string }>("charge", input, { summary: "charge card" });
  ctx.addCompensation(() => ctx.activity("refund", { receipt: r.receipt }));
  const approved = await ctx.waitForSignal<boolean>("approve", { timeout: "1d" });
  await ctx.sleep("5m");
  const [a, b] = await ctx.all([ctx.activity<number>("x"), ctx.sleep(10)] as const);
  ctx.log("done", ctx.workflowId, ctx.now(), ctx.uuid(), a, b);
  return { receipt: r.receipt, approved: approved ?? false };
});

export default defineWorkflow({ name: "nightly", run: async (ctx) => ctx.child<number>(order, { amount: 1 }) });
`,
  "send-mail.ts": `
import { defineJob, rateLimited, withoutOverlapping, throttlesExceptions, type JobContext } from "securely";

export default defineJob<{ to: string }>({
  tries: 5,
  backoff: [1, 5, 30],
  middleware: [rateLimited({ key: "mail", max: 10, perSeconds: 1 }), withoutOverlapping("mail"), throttlesExceptions(3, 60)],
  async handle(payload, ctx: JobContext) {
    ctx.log.info("sending to", payload.to, "attempt", ctx.attempt);
    if (!payload.to.includes("@")) return ctx.fail("bad address");
    if (ctx.signal.aborted) ctx.release(10);
  },
});
`,
  "hooks.ts": `
import type { HookContext, ProxyHooks } from "securely";

export function requestFilter(ctx: HookContext, req: Request): Response | void {
  if (!req.headers.get("authorization")) return new Response("no", { status: 401 });
  ctx.state.user = "x";
}

export const logging: ProxyHooks["logging"] = (ctx) => console.log(ctx.route, ctx.status);
`,
  "typed-hooks.ts": `
import { defineProxyHooks } from "securely";

export default defineProxyHooks({
  upstreamPeer(ctx) { return ctx.headers.get("x-canary") === "1" ? "127.0.0.1:9" : undefined; },
  failToConnect(ctx, error) { return error.message.length > 0 && ctx.route !== "x"; },
});
`,
};

// the stand-in for consola's logger must accept the real one (the worker passes a ConsolaInstance)
const LOGGER_CHECK = `
import type { ConsolaInstance as Real } from "consola";
import type { JobContext } from "securely";
declare const real: Real;
export const log: JobContext["log"] = real;
`;

const BAD = `
import { defineJob, defineProxyHooks, defineWorkflow } from "securely";

export const wf = defineWorkflow(async (ctx) => {
  await ctx.sleeep("1h");
  await ctx.activity("charge", {}, { retry: { maximumAttempt: 3 } });
});

export default defineJob({
  handle(payload, ctx) {
    ctx.relase(5);
  },
});

export const hooks = defineProxyHooks({ requestFiltr(ctx: unknown) {} });
`;

test("tsc accepts user files (and docs/sdk.md's examples) that use the SDK and rejects a file that misuses it", async () => {
  const dir = tempDir();
  const r0 = await runSecurely(["sdk:types", "--out", join(dir, "securely.d.ts")]);
  expect(r0.code).toBe(0);
  for (const [name, text] of Object.entries(GOOD)) writeFileSync(join(dir, name), text);
  const examples = [...readFileSync(join(ROOT, "docs/sdk.md"), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(examples.length).toBeGreaterThanOrEqual(3);
  examples.forEach((text, i) => writeFileSync(join(dir, `docs-example-${i}.ts`), text));
  writeFileSync(join(dir, "logger-check.ts"), LOGGER_CHECK);
  writeFileSync(join(dir, "bad.ts"), BAD);
  // what docs/sdk.md suggests for a folder of user files: strict, web globals from lib DOM
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: "ESNext", module: "ESNext", moduleResolution: "bundler", lib: ["ESNext", "DOM"], types: [], paths: { consola: [join(ROOT, "node_modules/consola")] } }, include: ["*.ts"] }));
  const proc = Bun.spawn([process.execPath, TSC, "-p", dir], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  // consola's own .d.ts wants @types/node (only logger-check.ts reaches it): errors outside `dir` are not ours
  const errors = out.split("\n").filter((l) => l.includes("error TS") && !l.startsWith("../"));
  expect(code).not.toBe(0);
  expect(errors.filter((l) => !l.startsWith("bad.ts"))).toEqual([]);
  expect(errors.find((l) => l.includes("'sleeep'"))).toContain("WorkflowContext");
  expect(errors.find((l) => l.includes("'maximumAttempt'"))).toContain("RetryPolicy");
  expect(errors.find((l) => l.includes("'relase'"))).toContain("JobContext");
  expect(errors.find((l) => l.includes("'requestFiltr'"))).toContain("ProxyHooks");
  expect(errors).toHaveLength(4);
}, 60_000);

describe("generator", () => {
  function fixture(files: Record<string, string>): string {
    const root = tempDir();
    writeFileSync(join(root, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, target: "ESNext", module: "Preserve", moduleResolution: "bundler", lib: ["ESNext"], types: [], allowImportingTsExtensions: true, noEmit: true } }));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(root, name, ".."), { recursive: true });
      writeFileSync(join(root, name), text);
    }
    return root;
  }
  const define = 'export function defineModule(m: { name: string; sdk?: Record<string, unknown> }) { return m; }\n';

  test("pulls in referenced types (through re-exports), renames clashing ones per namespace, keeps sdk export names", () => {
    const root = fixture({
      "src/core/module.ts": define,
      "src/main.ts": 'import "./a/index.ts";\nimport "./b/index.ts";\n',
      "src/a/types.ts": "/** a's options */\nexport interface Options { retries: number }\n",
      "src/a/all.ts": 'export type * from "./types.ts";\n', // found through a re-export
      "src/a/index.ts": 'import { defineModule } from "../core/module.ts";\nimport type { Options } from "./all.ts";\nexport function run(o: Options) { return o.retries; }\nfunction hidden() { return 1; }\nexport const aModule = defineModule({ name: "a", sdk: { runA: run } });\nexport const cModule = defineModule({ name: "c", sdk: { hidden } });\n',
      "src/b/index.ts": 'import { defineModule } from "../core/module.ts";\nexport interface Options { label: string }\nexport function label(o: Options) { return { o }; }\nexport const bModule = defineModule({ name: "b", sdk: { label } });\n',
    });
    expect(() => generateSdkTypes(root, [])).toThrow("src/a/index.ts: no declaration of hidden in its declaration emit — export it from that file");
    writeFileSync(join(root, "src/a/index.ts"), readFileSync(join(root, "src/a/index.ts"), "utf8").replace("function hidden", "export function hidden"));
    const text = generateSdkTypes(root, []);
    expect(text).toContain("export function run(o: Options): number;");
    expect(text).toContain("export { run as runA };");
    expect(text).toContain("/** a's options */\n    export interface Options {");
    // b's Options clashes with a's: renamed, and the inferred return type follows the rename
    expect(text).toContain("export interface BOptions {");
    expect(text).toContain("export function label(o: BOptions): {\n        o: BOptions;\n    };");
  }, 30_000);

  test("a type from a package user code lacks stops the generator with what to do", () => {
    const root = fixture({
      "src/core/module.ts": define,
      "src/main.ts": 'import "./a/index.ts";\n',
      "node_modules/somepkg/index.d.ts": "export interface Thing { x: number }\n",
      "node_modules/somepkg/package.json": '{ "name": "somepkg", "types": "index.d.ts" }',
      "src/a/index.ts": 'import { defineModule } from "../core/module.ts";\nimport type { Thing } from "somepkg";\nexport function f(t: Thing) {}\nexport const aModule = defineModule({ name: "a", sdk: { f } });\n',
    });
    expect(() => generateSdkTypes(root, [])).toThrow(/Thing from package 'somepkg'.*add a stand-in to EXTERNAL/);
    expect(() => generateSdkTypes(root, [["src/a/index.ts", ["Gone"]]])).toThrow("src/a/index.ts no longer exports Gone");
  }, 30_000);
});
