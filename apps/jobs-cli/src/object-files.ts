import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { NatsConnection } from '@nats-io/nats-core';
import { Objm, type ObjectStore } from '@nats-io/obj';

/** The Object Store bucket the import/export worker shares files through: the CLI's uploads and the exports it writes. */
export class FilesBucket {
  private store: Promise<ObjectStore> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    readonly name: string,
  ) {}

  /** Streams the local file `path` into the object `objectName`; its size in bytes. */
  async upload(path: string, objectName: string, description: string): Promise<number> {
    const store = await this.open();
    const body = Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
    const info = await store.put({ name: objectName, description }, body);
    return info.size;
  }

  /**
   * Streams the object `objectName` into the local file `path`: into a temporary file beside it,
   * renamed once whole, so that a failed download leaves no half-written file.
   */
  async download(objectName: string, path: string): Promise<number> {
    const store = await this.open();
    const object = await store.get(objectName);
    if (object === null) throw new Error(`the object "${objectName}" is not in the bucket ${this.name}`);
    const partial = `${path}.${process.pid}.part`;
    try {
      await pipeline(Readable.fromWeb(object.data as import('node:stream/web').ReadableStream<Uint8Array>), createWriteStream(partial));
      const failure = await object.error;
      if (failure) throw failure;
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    return object.info.size;
  }

  /** Removes an uploaded object no job will read (its create was refused). */
  async remove(objectName: string): Promise<void> {
    await (await this.open()).delete(objectName);
  }

  private open(): Promise<ObjectStore> {
    // The worker creates the bucket; the first CLI upload may come before the worker ever ran.
    this.store ??= new Objm(this.nc).open(this.name).catch(() =>
      new Objm(this.nc).create(this.name).catch((error: unknown) => {
        throw new Error(
          `the Object Store bucket ${this.name} does not exist and cannot be made here (${error instanceof Error ? error.message : String(error)}): start the import/export worker once, which makes it`,
        );
      }),
    );
    return this.store;
  }
}
