import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EncodedJobEventCommit } from '#contracts';
import { readModelRows } from '#testing/read-models';
import { ReadModelBulkLoad } from './read-model-bulk-load.js';
import { ReadModelDatabase } from './read-model-database.js';
import { JobStreams } from '#testing/job-streams';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bulk-load-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Two jobs with more log lines and rejects than one multi-row insert takes, one stopped by its
 * rejects policy, and a message the service never wrote.
 */
function history(): JobStreams {
  const streams = new JobStreams();
  for (const jobId of ['a', 'b']) {
    streams.run('create', { jobId, label: `Job ${jobId}`, kind: 'export', rejectPolicy: { maxRejects: 30 } });
    streams.run('start', { jobId });
    for (let n = 0; n < 37; n++)
      streams.run('log', { jobId, level: n % 5 ? 'info' : 'error', message: `step ${n} of ${jobId}` }, { actor: 'executor' });
  }
  streams.run('reject', { jobId: 'a', records: Array.from({ length: 20 }, (_, i) => ({ line: i + 1, reason: 'bad', record: { i } })) });
  streams.run('reject', { jobId: 'a', records: Array.from({ length: 20 }, (_, i) => ({ line: i + 21, reason: 'bad', record: { i } })) });
  streams.forge('b', 'this is not json', null);
  streams.run('finish', { jobId: 'b', processed: 37 });
  return streams;
}

/** The live way: one commit at a time, indexes kept up to date. */
function applyOneByOne(commits: EncodedJobEventCommit[], file: string): void {
  const database = ReadModelDatabase.open(file);
  for (const commit of commits) database.applyCommits([commit]);
  database.close();
}

describe('ReadModelBulkLoad: a rebuild in a worker thread', () => {
  it('builds the same file as commits applied one at a time, row for row and index for index', async () => {
    const streams = history();
    const commits = streams.stored;
    applyOneByOne(commits, join(dir, 'live.sqlite'));
    const file = join(dir, 'bulk.sqlite');
    const bulkLoad = ReadModelBulkLoad.start(file);
    for (let i = 0; i < commits.length; i += 7) await bulkLoad.apply(commits.slice(i, i + 7));
    const result = await bulkLoad.finish();

    const events = streams.commits.reduce((sum, commit) => sum + commit.events.length, 0);
    expect(result).toEqual({ checkpoint: commits.at(-1)!.position, events });
    const live = readModelRows(join(dir, 'live.sqlite'));
    expect(live.logs.length).toBeGreaterThan(2 * 37);
    expect(live.rejects).toHaveLength(40);
    expect(live.quarantined).toEqual([{ position: commits.at(-2)!.position, job_id: 'b', reason: 'its body is not JSON' }]);
    expect(readModelRows(file)).toEqual(live);
    // The file is ready for live use: durable, and it takes the next commits.
    const database = ReadModelDatabase.open(file);
    expect(database.connection.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(database.checkpoint()).toBe(result.checkpoint);
    database.close();
  });

  it('holds back the next batch while the characters in flight reach their bound, even for a batch past it', async () => {
    const commits = history().stored;
    const file = join(dir, 'bulk.sqlite');
    const bulkLoad = ReadModelBulkLoad.start(file, { maxCharactersInFlight: 500 });
    for (let i = 0; i < commits.length; i += 7) {
      const batch = commits.slice(i, i + 7);
      await bulkLoad.apply(batch);
      // Each batch is past the bound: it is applied before the next one is taken.
      const reader = new Database(file, { fileMustExist: true });
      expect(reader.prepare('SELECT position FROM checkpoint').pluck().get()).toBe(batch.at(-1)!.position);
      reader.close();
    }
    expect(await bulkLoad.finish()).toMatchObject({ checkpoint: commits.at(-1)!.position });
  });

  it('fails the load on a commit it cannot write, rather than skipping it', async () => {
    const commits = history().stored;
    const bulkLoad = ReadModelBulkLoad.start(join(dir, 'bulk.sqlite'));
    await bulkLoad.apply(commits.slice(0, 3));
    // No job to record it under: the quarantine's row cannot be written.
    await bulkLoad.apply([{ ...commits[3]!, jobId: null as unknown as string, events: 'not json' }]);
    await expect(bulkLoad.finish()).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_NOTNULL' });
  });

  it('takes nothing more once aborted', async () => {
    const commits = history().stored;
    const bulkLoad = ReadModelBulkLoad.start(join(dir, 'bulk.sqlite'));
    await bulkLoad.apply(commits.slice(0, 3));
    await bulkLoad.abort();
    await expect(bulkLoad.apply(commits.slice(3))).rejects.toThrow('aborted');
  });
});
