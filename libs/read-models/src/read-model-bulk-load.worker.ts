import { parentPort, workerData } from 'node:worker_threads';
import { decodeCommit, type JobEventCommit } from '#contracts';
import { ReadModelDatabase } from './read-model-database.js';
import type { BulkLoadReply, BulkLoadRequest } from './read-model-bulk-load.js';

/** A bulk load's own thread: decodes commits and applies them to the file it alone writes. */
const database = ReadModelDatabase.openForBulkLoad((workerData as { file: string }).file);
let events = 0;

function apply(positions: number[], encoded: string[]): void {
  const commits: JobEventCommit[] = positions.map((position, i) => decodeCommit({ position, events: encoded[i]! }));
  for (const commit of commits) events += commit.events.length;
  database.applyCommits(commits);
}

parentPort!.on('message', (request: BulkLoadRequest) => {
  let reply: BulkLoadReply;
  if (request.type === 'apply') {
    apply(request.positions, request.events);
    reply = { type: 'applied' };
  } else {
    database.endBulkLoad();
    const checkpoint = database.checkpoint();
    database.close();
    reply = { type: 'finished', checkpoint, events };
  }
  parentPort!.postMessage(reply);
});
