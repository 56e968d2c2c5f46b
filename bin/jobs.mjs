#!/usr/bin/env node
// `npx jobs ...` in the repository: runs the built CLI (dist/), which `npm run build` makes.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/apps/jobs-cli/src/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    `jobs: the CLI is not built yet: run \`npm run build\` (or \`npx tsc -b tsconfig.build.json\`) in ${fileURLToPath(new URL('..', import.meta.url))}\n`,
  );
  process.exit(1);
}
await import(main.href);
