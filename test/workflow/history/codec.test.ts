import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { project, type TestProject } from "../helpers.ts";

let p: TestProject | undefined;
afterEach(() => {
  p?.close();
  delete process.env.SECURELY_KEY;
});

const WF = `
import { defineWorkflow, defineActivity } from "securely";
export const shout = defineActivity(async (s: string, ctx) => { ctx.heartbeat({ at: s }); return s.toUpperCase(); });
export const secretive = defineWorkflow(async (ctx, input: { card: string }) => {
  const a = await ctx.activity<string>("shout", input.card);
  const pin = await ctx.waitForSignal<string>("pin");
  return a + ":" + pin;
});
`;

describe("workflow.encrypt", () => {
  test("payloads are encrypted at rest with the app key, and read back transparently", async () => {
    process.env.SECURELY_KEY = "base64:" + randomBytes(32).toString("base64");
    p = await project(`workflow:\n  files: [./wf.ts]\n  encrypt: true\n`, { "wf.ts": WF });
    const id = p.rt.client.start("secretive", { card: "card-4111-secret" });
    p.rt.client.signal(id, "pin", "pin-9876-secret");
    const run = await p.finish(id);
    expect(run.output).toBe("CARD-4111-SECRET:pin-9876-secret");
    expect(p.rt.engine.runs.history(id).find((e) => e.type === "SignalReceived")!.data).toEqual({ name: "pin", payload: "pin-9876-secret" });
    p.app.store().db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const bytes = readFileSync(p.app.storePath, "latin1");
    for (const secret of ["card-4111-secret", "CARD-4111-SECRET", "pin-9876-secret"]) expect(bytes.includes(secret)).toBe(false);
    const raw = p.app.store().db.query("SELECT data FROM workflow_events WHERE run_id = ?1 AND type = 'WorkflowStarted'").get(id) as { data: string };
    expect(raw.data.startsWith("enc:")).toBe(true);
  });

  test("without an app key, encryption refuses to start with a clear line", async () => {
    await expect(project(`workflow:\n  files: [./wf.ts]\n  encrypt: true\n`, { "wf.ts": WF })).rejects.toThrow("no app key: SECURELY_KEY is not set");
  });
});
