import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/**
 * Keeps a folder of read models to one process. Two query services given the same DATA_DIR would
 * write one file and delete each other's rebuilds. The lock is a small SQLite file held in exclusive
 * locking mode: the operating system lets go of it when its process ends, however it ends, so a
 * crash never leaves a stale lock behind.
 */
export class ReadModelFolderLock {
  private constructor(private readonly connection: Database.Database) {}

  /** Takes the folder's lock, creating the folder; throws at once if another process holds it. */
  static acquire(folder: string): ReadModelFolderLock {
    mkdirSync(folder, { recursive: true });
    // No extension: a read-model file ends in .sqlite, and stale ones are removed by that name.
    const connection = new Database(path.join(folder, 'lock'), { timeout: 0 });
    try {
      connection.pragma('locking_mode = EXCLUSIVE');
      // The first write takes the exclusive lock; in this mode it is kept until the connection closes.
      connection.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL); DELETE FROM holder');
      connection.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
      return new ReadModelFolderLock(connection);
    } catch (error) {
      connection.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') {
        throw new Error(`the read models in ${folder} are in use by another process: give each query service instance its own DATA_DIR`);
      }
      throw error;
    }
  }

  release(): void {
    this.connection.close();
  }
}
