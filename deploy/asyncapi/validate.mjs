// Validates an AsyncAPI document with the AsyncAPI project's parser (its spec schemas, bindings
// and Spectral rules). Prints the diagnostics as JSON; exits 1 on any error.
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const text = readFileSync(process.argv[2], "utf8");
const { document, diagnostics } = await new Parser().parse(text);
const shown = diagnostics.map((d) => ({
  severity: ["error", "warning", "info", "hint"][d.severity],
  code: d.code,
  path: d.path.join("/"),
  message: d.message,
}));
console.log(JSON.stringify({ valid: document !== undefined && !shown.some((d) => d.severity === "error"), diagnostics: shown }, null, 1));
process.exit(document === undefined || shown.some((d) => d.severity === "error") ? 1 : 0);
