import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existingFileIn, newFileIn } from './files.js';

describe("the jobs' files folder", () => {
  let root: string;
  let files: string;

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'worker-files-'));
    files = path.join(root, 'files');
    mkdirSync(path.join(files, 'in'), { recursive: true });
    writeFileSync(path.join(files, 'in', 'people.csv'), 'email\n');
    writeFileSync(path.join(root, 'secret.csv'), 'secret\n');
    symlinkSync(path.join(root, 'secret.csv'), path.join(files, 'link.csv'));
    symlinkSync(root, path.join(files, 'up'));
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('gives the files inside it, by relative or absolute path', async () => {
    expect(await existingFileIn(files, 'in/people.csv')).toBe(path.join(files, 'in', 'people.csv'));
    expect(await existingFileIn(files, 'in/../in/people.csv')).toBe(path.join(files, 'in', 'people.csv'));
    expect(await existingFileIn(files, path.join(files, 'in', 'people.csv'))).toBe(path.join(files, 'in', 'people.csv'));
  });

  it('refuses a path that leaves it, by .., an absolute path or a symlink', async () => {
    for (const file of ['../secret.csv', path.join(root, 'secret.csv'), 'link.csv', 'up/secret.csv', '/etc/passwd']) {
      await expect(existingFileIn(files, file), file).rejects.toMatchObject({ code: 'PATH_OUTSIDE_FILES_DIR' });
    }
    for (const file of ['../out.csv', 'up/out.csv', '/tmp/out.csv', '.']) {
      await expect(newFileIn(files, file), file).rejects.toMatchObject({ code: 'PATH_OUTSIDE_FILES_DIR' });
    }
  });

  it('says when a file is missing', async () => {
    await expect(existingFileIn(files, 'in/nobody.csv')).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
      message: expect.stringContaining('no file "in/nobody.csv"'),
    });
    await expect(existingFileIn(files, 'in')).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });

  it('makes the folders of a new file inside it', async () => {
    expect(await newFileIn(files, 'out/2024/people.csv')).toBe(path.join(files, 'out', '2024', 'people.csv'));
  });
});
