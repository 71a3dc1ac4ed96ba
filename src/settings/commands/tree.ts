import { defineCommand } from "../../core/module.ts";
import { settingsRepository } from "../context.ts";
import { renderTree, treeJson } from "../tree.ts";
import { envArg, MASK, prefixArg, profileOf, revealArg } from "./shared.ts";

export const settingsTree = defineCommand({
  name: "settings:tree",
  description: "Show settings as a hierarchy of their dotted names, secrets marked",
  args: {
    ...prefixArg,
    ...envArg,
    ...revealArg,
  },
  run({ app, args }) {
    const env = profileOf(app, args.env);
    const leaves = settingsRepository(app)
      .all(env, { prefix: args.prefix, decrypt: Boolean(args.reveal) })
      .map((s) => ({ key: s.key, shown: s.value ?? MASK, secret: s.secret, env: s.env || undefined }));
    app.print(treeJson(leaves), () => renderTree(leaves));
  },
});
