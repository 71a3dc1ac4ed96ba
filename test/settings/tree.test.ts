import { describe, expect, test } from "bun:test";
import { renderTree, treeJson } from "../../src/settings/tree.ts";

describe("renderTree", () => {
  const leaves = [
    { key: "mail.smtp.password", shown: "********", secret: true },
    { key: "mail.from", shown: "hi@example.com", secret: false },
    { key: "mail.smtp.host", shown: "smtp.example.com", secret: false, env: "production" },
    { key: "APP_NAME", shown: "securely", secret: false },
  ];

  test("draws the hierarchy with box-drawing lines and marks secrets and profiles", () => {
    expect(renderTree(leaves)).toBe(
      [
        "APP_NAME = securely",
        "mail",
        "├── from = hi@example.com",
        "└── smtp",
        "    ├── host = smtp.example.com (env production)",
        "    └── password = ******** (secret)",
      ].join("\n"),
    );
    expect(renderTree([])).toBe("(no settings)");
  });

  test("a key that is also a parent shows its value and its children", () => {
    expect(renderTree([{ key: "a", shown: "1", secret: false }, { key: "a.b", shown: "2", secret: false }])).toBe("a = 1\n└── b = 2");
  });

  test("treeJson nests the same way", () => {
    expect(treeJson(leaves).mail).toEqual({
      children: {
        from: { value: "hi@example.com" },
        smtp: { children: { host: { value: "smtp.example.com", env: "production" }, password: { value: "********", secret: true } } },
      },
    });
  });
});
