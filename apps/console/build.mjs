// `npm run build:console`: Vite's build of the console, skipped when dist/console is newer than every
// file it is built from (its sources, the contracts it imports, the lock file), so that a second
// `npm start` does not wait for a bundle that would come out the same.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const inputs = ['apps/console', 'libs/contracts/src', 'package-lock.json'].map((input) => path.join(repo, input));

/** The last change to a file, or to any file below a folder. */
function lastChange(file) {
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(file).map((name) => lastChange(path.join(file, name))));
}

function builtAt() {
  try {
    return statSync(path.join(repo, 'dist/console/index.html')).mtimeMs;
  } catch {
    return 0;
  }
}

if (builtAt() <= Math.max(...inputs.map(lastChange))) {
  // Vite is loaded only to build: loading it alone takes most of a second.
  const { build } = await import('vite');
  await build({ configFile: path.join(repo, 'apps/console/vite.config.ts'), logLevel: 'warn' });
}
