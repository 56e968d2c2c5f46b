import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ReadModelFolderLock, replaceFileDurably } from '#read-models';

/**
 * The generations of an instance's read-model files, in a folder it alone uses: the file in use,
 * which the `active` marker names, and the fresh one a rebuild fills and then makes active.
 */
export class ReadModelGenerations {
  private constructor(
    private readonly folder: string,
    private readonly lock: ReadModelFolderLock,
  ) {}

  /** Takes the folder's lock, creating the folder; throws at once if another process holds it. */
  static open(folder: string): ReadModelGenerations {
    return new ReadModelGenerations(folder, ReadModelFolderLock.acquire(folder));
  }

  /** The file in use: the one the `active` marker names, or the first one of this folder. */
  activeFile(): string {
    const marker = path.join(this.folder, 'active');
    if (existsSync(marker)) return path.join(this.folder, readFileSync(marker, 'utf8').trim());
    return path.join(this.folder, 'read-models.sqlite');
  }

  /** A file for a new generation, in use once `activate` names it. */
  newFile(): string {
    return path.join(this.folder, `read-models-${Date.now()}.sqlite`);
  }

  /** Makes `file` the one in use, also after a crash at any instant. */
  activate(file: string): void {
    replaceFileDurably(path.join(this.folder, 'active'), path.basename(file));
  }

  /** Removes the files of earlier generations, and of a rebuild that a crash interrupted. */
  removeAllBut(inUse: string): void {
    const keep = path.basename(inUse);
    for (const name of readdirSync(this.folder)) {
      if (name.endsWith('.sqlite') && name !== keep) this.remove(path.join(this.folder, name));
    }
  }

  /** Removes a generation's file, with SQLite's files beside it. */
  remove(file: string): void {
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  }

  release(): void {
    this.lock.release();
  }
}
