import { describe, expect, test } from "bun:test";
import { lookup, render } from "../../../src/workflow/yaml/template.ts";

const scope = { input: { id: 7, tags: ["a", "b"] }, steps: { build: { output: { file: "app.tgz", meta: { size: 3 } } } }, workflow: { id: "w-1" } };

describe("templates", () => {
  test("a whole-value template keeps the type; inside text objects become JSON", () => {
    expect(render("${{ input.id }}", scope)).toBe(7);
    expect(render("${{ steps.build.output }}", scope)).toEqual({ file: "app.tgz", meta: { size: 3 } });
    expect(render("v${{ input.id }} of ${{ workflow.id }}", scope)).toBe("v7 of w-1");
    expect(render("meta=${{ steps.build.output.meta }}", scope)).toBe('meta={"size":3}');
    expect(render("${{input.tags[1]}}", scope)).toBe("b");
  });

  test("missing paths are null (whole) or empty (inside text); structures are walked", () => {
    expect(render("${{ steps.nope.output }}", scope)).toBeNull();
    expect(render("x${{ steps.nope.output }}y", scope)).toBe("xy");
    expect(render({ a: ["${{ input.id }}", 1], b: "plain ${NAME}" }, scope)).toEqual({ a: [7, 1], b: "plain ${NAME}" });
    expect(lookup(scope, "input.tags.0")).toBe("a");
  });
});
