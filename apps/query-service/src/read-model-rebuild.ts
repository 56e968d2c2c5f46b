import type { EncodedJobEventCommit } from '#contracts';
import type { EventStore } from '#event-store';
import { ReadModelBulkLoad, type ReadModelDatabase } from '#read-models';
import { MAX_BATCH } from './commit-batches.js';

/** A rebuild also hands a batch to its worker once its commits reach this many characters (huge reject commits). */
const MAX_BATCH_CHARACTERS = 8 * 1024 * 1024;

/** What a step of a rebuild read from the event store. */
export interface RebuildProgress {
  commits: number;
  events: number;
}

/** Throws once the service is stopping: a rebuild is abandoned there, its fresh file removed. */
function abandonIfStopping(signal: AbortSignal): void {
  if (signal.aborted) throw new Error('the service is stopping: rebuild abandoned');
}

/**
 * Fills the new read-model `file` with the history up to `target` through a bulk load in a worker
 * thread, and closes it ready to open. On failure the file is left half written, for the caller to remove.
 */
export async function loadHistoryInBulk(store: EventStore, file: string, target: number, signal: AbortSignal): Promise<RebuildProgress> {
  const bulkLoad = ReadModelBulkLoad.start(file);
  try {
    let commits = 0;
    let batch: EncodedJobEventCommit[] = [];
    let characters = 0;
    reading: for await (const arrived of store.subscribe({ afterPosition: 0, live: false, signal })) {
      for (const commit of arrived) {
        if (commit.position > target) break reading;
        batch.push(commit);
        characters += commit.events.length;
      }
      if (batch.length >= MAX_BATCH || characters >= MAX_BATCH_CHARACTERS) {
        await bulkLoad.apply(batch);
        commits += batch.length;
        batch = [];
        characters = 0;
      }
      if (arrived.at(-1)!.position >= target) break;
    }
    await bulkLoad.apply(batch);
    commits += batch.length;
    abandonIfStopping(signal);
    const { events } = await bulkLoad.finish();
    return { commits, events };
  } catch (error) {
    await bulkLoad.abort();
    throw error;
  }
}

/** Applies to `fresh` the commits after its checkpoint, up to `target`. */
export async function applyTail(
  store: EventStore,
  fresh: ReadModelDatabase,
  target: number,
  signal: AbortSignal,
): Promise<RebuildProgress> {
  let commits = 0;
  let events = 0;
  const batch: EncodedJobEventCommit[] = [];
  const apply = () => {
    events += fresh.applyCommits(batch.splice(0)).events;
  };
  reading: for await (const arrived of store.subscribe({ afterPosition: fresh.checkpoint(), live: false, signal })) {
    for (const commit of arrived) {
      batch.push(commit);
      commits += 1;
      if (batch.length >= MAX_BATCH) apply();
      if (commit.position >= target) break reading;
    }
  }
  apply();
  abandonIfStopping(signal);
  return { commits, events };
}
