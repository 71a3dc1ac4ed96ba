/** Every command of the settings namespace: settings:*, key:*, crypt:*. */
import { cryptDecrypt, cryptEncrypt } from "./crypt.ts";
import { settingsExport } from "./export.ts";
import { settingsGet } from "./get.ts";
import { settingsHistory } from "./history.ts";
import { settingsImport } from "./import.ts";
import { keyGenerate, keyInfo, keyPrune, keyRotate } from "./key.ts";
import { settingsList } from "./list.ts";
import { settingsRun } from "./run.ts";
import { settingsSet } from "./set.ts";
import { settingsTree } from "./tree.ts";
import { settingsUnset } from "./unset.ts";

export const settingsCommands = [
  settingsSet,
  settingsGet,
  settingsList,
  settingsTree,
  settingsUnset,
  settingsImport,
  settingsExport,
  settingsRun,
  settingsHistory,
  keyGenerate,
  keyRotate,
  keyPrune,
  keyInfo,
  cryptEncrypt,
  cryptDecrypt,
];
