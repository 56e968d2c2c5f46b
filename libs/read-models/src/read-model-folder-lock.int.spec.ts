import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ReadModelFolderLock } from './read-model-folder-lock.js';

let dir: string;
let folder: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'folder-lock-'));
  folder = path.join(dir, 'read-models', 'JOBS');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

it('lets one holder at a time have a folder, and the next one once it is released', () => {
  const first = ReadModelFolderLock.acquire(folder);
  expect(() => ReadModelFolderLock.acquire(folder)).toThrow(`the read models in ${folder} are in use by another process`);
  first.release();
  ReadModelFolderLock.acquire(folder).release();
  // Nothing that the removal of stale read-model files (*.sqlite) would take for one.
  expect(readdirSync(folder).filter((name) => name.endsWith('.sqlite'))).toEqual([]);
});

it('is refused while another process holds it, and free as soon as that process is killed', async () => {
  // The built module, as a service process runs it (`npm test` builds first).
  const built = pathToFileURL(path.resolve('dist/libs/read-models/src/read-model-folder-lock.js')).href;
  const holder = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { ReadModelFolderLock } from '${built}'; ReadModelFolderLock.acquire(process.argv[1]); console.log('held'); setInterval(() => {}, 1000);`,
      folder,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise((resolve) => holder.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
  });
  expect(() => ReadModelFolderLock.acquire(folder)).toThrow(/in use by another process: give each query service instance its own DATA_DIR/);
  holder.kill('SIGKILL');
  await exited;
  ReadModelFolderLock.acquire(folder).release();
});
