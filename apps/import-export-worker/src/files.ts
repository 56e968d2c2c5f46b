import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable, type Writable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { NatsConnection } from '@nats-io/nats-core';
import { Objm, type ObjectStore } from '@nats-io/obj';
import type { FileLocation } from './definitions.js';
import { WorkerError } from './errors.js';

const isInside = (folder: string, target: string) => {
  const relative = path.relative(folder, target);
  return relative === '' || (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative));
};

const outside = (file: string) =>
  new WorkerError('PATH_OUTSIDE_FILES_DIR', `"${file}" is outside the jobs' files folder (JOBS_FILES_DIR): give a path inside it`);

/** `file` (relative to `filesDir`, or absolute inside it) as a path inside the folder, refused when it leads out (by `..` or a symlink). */
export async function existingFileIn(filesDir: string, file: string): Promise<string> {
  const resolved = path.resolve(filesDir, file);
  if (!isInside(filesDir, resolved)) throw outside(file);
  let real: string;
  try {
    real = await realpath(resolved);
  } catch {
    throw new WorkerError('FILE_NOT_FOUND', `no file "${file}" in the jobs' files folder (JOBS_FILES_DIR): upload it there first`);
  }
  if (!isInside(await realpath(filesDir), real)) throw outside(file);
  if (!(await stat(real)).isFile()) throw new WorkerError('FILE_NOT_FOUND', `"${file}" is a folder, not a file`);
  return real;
}

/** Where to write `file` inside `filesDir`: its folders are made, and a path that leads out, even through a symlink, is refused. */
export async function newFileIn(filesDir: string, file: string): Promise<string> {
  const resolved = path.resolve(filesDir, file);
  if (!isInside(filesDir, resolved) || resolved === path.resolve(filesDir)) throw outside(file);
  await mkdir(filesDir, { recursive: true });
  const realFolder = await realpath(filesDir);
  let existing = path.dirname(resolved);
  while (!(await stat(existing).catch(() => null))) existing = path.dirname(existing);
  if (!isInside(realFolder, await realpath(existing))) throw outside(file);
  await mkdir(path.dirname(resolved), { recursive: true });
  if (!isInside(realFolder, await realpath(path.dirname(resolved)))) throw outside(file);
  return path.join(await realpath(path.dirname(resolved)), path.basename(resolved));
}

/** A file to read: its bytes, its size, and what to call it in a log line. */
export interface SourceFile {
  describe: string;
  size: number;
  open(): Readable;
}

/** Where the jobs' files are: a folder and an Object Store bucket. */
export class JobFiles {
  private bucket: Promise<ObjectStore> | null = null;

  constructor(
    readonly filesDir: string,
    readonly bucketName: string,
    private readonly connection: NatsConnection | null,
  ) {}

  /** The file a job reads, checked before anything is written. */
  async source(location: FileLocation): Promise<SourceFile> {
    if ('file' in location) {
      const file = await existingFileIn(this.filesDir, location.file);
      const { size } = await stat(file);
      return { describe: `file ${location.file}`, size, open: () => createReadStream(file, { highWaterMark: 64 * 1024 }) };
    }
    const store = await this.store();
    const info = await store.info(location.object);
    if (!info || info.deleted) {
      throw new WorkerError('FILE_NOT_FOUND', `no object "${location.object}" in the bucket ${this.bucketName}: upload it there first`);
    }
    return {
      describe: `object ${location.object} of bucket ${this.bucketName}`,
      size: info.size,
      open: () =>
        Readable.from(
          (async function* () {
            const result = await store.get(location.object);
            if (!result) throw new WorkerError('FILE_NOT_FOUND', `the object "${location.object}" was deleted`);
            yield* Readable.fromWeb(result.data as WebReadableStream<Uint8Array>);
          })(),
          { objectMode: false },
        ),
    };
  }

  /**
   * Writes what `write` produces to the target: a file is written under a temporary name and renamed
   * once complete, so that no half-written export carries the name; an object is put as a stream.
   */
  async write(location: FileLocation, jobId: string, produce: (output: Writable) => Promise<void>): Promise<string> {
    if ('file' in location) {
      const file = await newFileIn(this.filesDir, location.file);
      const temporary = `${file}.${jobId}.partial`;
      try {
        await produce(createWriteStream(temporary));
        await rename(temporary, file);
      } finally {
        await rm(temporary, { force: true });
      }
      return `file ${location.file}`;
    }
    const store = await this.store();
    const body = new PassThrough();
    const put = store.put(
      { name: location.object, description: `export of job ${jobId}` },
      Readable.toWeb(body) as ReadableStream<Uint8Array>,
    );
    // The put reads the stream as it is written; a failed put ends the writer too.
    put.catch((error: unknown) => body.destroy(error as Error));
    await Promise.all([produce(body), put]);
    return `object ${location.object} of bucket ${this.bucketName}`;
  }

  /** Makes the bucket now, so that operators who may use it but not create it (deploy/nats/jobs.conf) find it. */
  async ensureBucket(): Promise<void> {
    await this.store();
  }

  private store(): Promise<ObjectStore> {
    const connection = this.connection;
    if (!connection) {
      return Promise.reject(new WorkerError('DEFINITION_INVALID', 'this worker has no NATS connection for the Object Store: use a file'));
    }
    this.bucket ??= new Objm(connection).create(this.bucketName).catch((error: unknown) => {
      this.bucket = null;
      throw error;
    });
    return this.bucket;
  }
}
