import { parentPort, workerData } from 'node:worker_threads';
import type { EncodedJobEventCommit } from '#contracts';
import { ReadModelDatabase } from './read-model-database.js';
import type { BulkLoadReply, BulkLoadRequest } from './read-model-bulk-load.js';

/** A bulk load's own thread: checks commits and applies them to the file it alone writes. */
const database = ReadModelDatabase.openForBulkLoad((workerData as { file: string }).file);
let events = 0;

function apply({ positions, jobIds, versions, events: bodies }: Extract<BulkLoadRequest, { type: 'apply' }>): void {
  const commits: EncodedJobEventCommit[] = positions.map((position, i) => ({
    position,
    jobId: jobIds[i]!,
    version: versions[i] ?? null,
    events: bodies[i]!,
  }));
  events += database.applyCommits(commits).events;
}

parentPort!.on('message', (request: BulkLoadRequest) => {
  let reply: BulkLoadReply;
  if (request.type === 'apply') {
    apply(request);
    reply = { type: 'applied' };
  } else {
    database.endBulkLoad();
    const checkpoint = database.checkpoint();
    database.close();
    reply = { type: 'finished', checkpoint, events };
  }
  parentPort!.postMessage(reply);
});
