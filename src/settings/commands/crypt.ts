/** crypt:encrypt / crypt:decrypt — Laravel's encrypt()/decrypt() with the app key, for scripts. */
import { defineCommand } from "../../core/module.ts";
import { openSecrets } from "../app-key.ts";
import { printValue, readStdin } from "./shared.ts";

export const cryptEncrypt = defineCommand({
  name: "crypt:encrypt",
  description: "Encrypt VALUE (- reads stdin) with the app key; prints the Laravel payload",
  args: {
    value: { type: "positional", description: "Plaintext, or - to read stdin", required: true },
    serialize: { type: "boolean", description: "PHP-serialize first, as Laravel's encrypt() does (default: encryptString)" },
  },
  async run({ app, args }) {
    const value = args.value === "-" ? await readStdin() : args.value;
    const e = openSecrets(app).encrypter;
    printValue(app, { value: args.serialize ? e.encrypt(value) : e.encryptString(value) });
  },
});

export const cryptDecrypt = defineCommand({
  name: "crypt:decrypt",
  description: "Decrypt a Laravel payload (- reads stdin) with the app key or a previous key; prints the value",
  args: {
    payload: { type: "positional", description: "The base64 payload, or - to read stdin", required: true },
    unserialize: { type: "boolean", description: "PHP-unserialize the plaintext, as Laravel's decrypt() does" },
  },
  async run({ app, args }) {
    const payload = args.payload === "-" ? (await Bun.stdin.text()).trim() : args.payload;
    const e = openSecrets(app).encrypter;
    if (!args.unserialize) return printValue(app, { value: e.decryptString(payload) });
    const v = e.decrypt(payload);
    if (app.json) app.print({ value: v });
    else process.stdout.write((typeof v === "string" ? v : JSON.stringify(v)) + "\n");
  },
});
