import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Waits until what is written to `file` is on disk. */
export function syncFile(file: string, flags = 'r+'): void {
  const fd = openSync(file, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `file` with `content` so that a crash at any instant leaves the old content or the new
 * one, on disk: a synced temporary file renamed over it, then the folder synced for the rename.
 */
export function replaceFileDurably(file: string, content: string): void {
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, content);
  syncFile(temporary);
  renameSync(temporary, file);
  syncFile(path.dirname(file), 'r');
}
