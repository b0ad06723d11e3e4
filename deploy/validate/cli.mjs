// Usage: node validate/cli.mjs [--overlay single-node|production] FILE.yaml...
// Validates every object in the files strictly against the Kubernetes schemas and, with --overlay,
// against that overlay's rules (validate/policy.mjs). Prints each problem; exits 1 if there is any.
import { readFileSync } from 'node:fs';
import { parseObjects } from './render.mjs';
import { validateObjects } from './schema.mjs';
import { checkCommon, checkProduction, checkSingleNode } from './policy.mjs';

const OVERLAY_CHECKS = { 'single-node': checkSingleNode, production: checkProduction };

const args = process.argv.slice(2);
let overlay;
if (args[0] === '--overlay') {
  overlay = args[1];
  args.splice(0, 2);
  if (!OVERLAY_CHECKS[overlay]) {
    console.error(`unknown overlay ${overlay}`);
    process.exit(2);
  }
}
if (args.length === 0) {
  console.error('usage: node validate/cli.mjs [--overlay single-node|production] FILE.yaml...');
  process.exit(2);
}

const objects = args.flatMap((file) => parseObjects(readFileSync(file, 'utf8')));
const errors = await validateObjects(objects);
if (overlay) errors.push(...checkCommon(objects), ...OVERLAY_CHECKS[overlay](objects));
for (const error of errors) console.error(error);
console.log(`${args.join(' ')}: ${objects.length} objects, ${errors.length} problems`);
process.exit(errors.length > 0 ? 1 : 0);
