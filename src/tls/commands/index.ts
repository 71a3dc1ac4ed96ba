import type { CommandDef } from "../../core/module.ts";

/** Every tls:* command, in help order. */
export const tlsCommands: CommandDef<any>[] = [];
