import type { CommandDef } from "../../core/module.ts";
import { tlsCa } from "./ca.ts";
import { tlsCert } from "./cert.ts";
import { tlsList } from "./list.ts";
import { tlsRemove } from "./remove.ts";
import { tlsRenew } from "./renew.ts";
import { tlsTrust, tlsUntrust } from "./trust.ts";

/** Every tls:* command, in help order. */
export const tlsCommands: CommandDef<any>[] = [tlsCa, tlsCert, tlsList, tlsRenew, tlsRemove, tlsTrust, tlsUntrust];
