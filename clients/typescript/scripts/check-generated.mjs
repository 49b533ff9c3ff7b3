// Fails when src/generated/schema.ts is not what `npm run generate` makes
// from the committed openapi/openapi.json (run `npm run generate` to fix).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const spec = join(root, "..", "..", "openapi", "openapi.json");
const committed = join(root, "src", "generated", "schema.ts");
const dir = mkdtempSync(join(tmpdir(), "newsdesk-types-"));
const fresh = join(dir, "schema.ts");
try {
  const bin = join(root, "node_modules", "openapi-typescript", "bin", "cli.js");
  execFileSync(process.execPath, [bin, spec, "--output", fresh], { stdio: ["ignore", "ignore", "inherit"] });
  const want = readFileSync(fresh, "utf8");
  let have = "";
  try {
    have = readFileSync(committed, "utf8");
  } catch {
    // missing counts as stale
  }
  if (want !== have) {
    console.error("src/generated/schema.ts is stale versus openapi/openapi.json: run `npm run generate` in clients/typescript and commit the result.");
    process.exit(1);
  }
  console.log("generated types are current (src/generated/schema.ts matches openapi/openapi.json)");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
