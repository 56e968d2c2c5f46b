import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { replaceFileDurably, syncFile } from './durable-file.js';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function folder(): string {
  const created = mkdtempSync(path.join(tmpdir(), 'durable-file-'));
  folders.push(created);
  return created;
}

it('replaces a file with new content and leaves no temporary file behind', () => {
  const dir = folder();
  const file = path.join(dir, 'active');
  replaceFileDurably(file, 'read-models-1.sqlite');
  expect(readFileSync(file, 'utf8')).toBe('read-models-1.sqlite');
  replaceFileDurably(file, 'read-models-2.sqlite');
  expect(readFileSync(file, 'utf8')).toBe('read-models-2.sqlite');
  expect(readdirSync(dir)).toEqual(['active']);
});

it('syncs an existing file and refuses a missing one', () => {
  const dir = folder();
  const file = path.join(dir, 'data');
  writeFileSync(file, 'rows');
  syncFile(file);
  expect(readFileSync(file, 'utf8')).toBe('rows');
  expect(() => syncFile(path.join(dir, 'missing'))).toThrow(/ENOENT/);
  expect(existsSync(path.join(dir, 'missing'))).toBe(false);
});
