import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandBody, CommandName, EncodedJobEventCommit, UnpositionedJobEvent } from '#contracts';
import {
  AppendTimeout,
  CommitTooLarge,
  ConcurrencyError,
  InMemoryEventStore,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type ReadJobOptions,
  type SubscribeOptions,
} from '#event-store';
import { readJobEvents } from '#testing/event-store.contract';
import { ExecuteJobCommand, ExecuteJobCommandHandler, newJobId, type CommandReply } from './execute-job-command.js';
import { JobRepository } from './job-repository.js';

/** What a test does to one append: let it through (`append`), refuse it, or time out. */
type Interceptor = (append: () => Promise<AppendResult>, jobId: string, options: AppendOptions) => Promise<AppendResult>;

/**
 * The in-memory store, with appends the test can intercept one by one: refused as JetStream
 * refuses a stale expected version, timed out, or preceded by another instance's command.
 */
class ControlledStore implements EventStore {
  readonly inner = new InMemoryEventStore();
  /** Appends tried, refused ones included. */
  appends = 0;
  private readonly interceptors: Interceptor[] = [];

  /** Intercepts the next appends, one interceptor each. */
  intercept(...interceptors: Interceptor[]): void {
    this.interceptors.push(...interceptors);
  }

  append(jobId: string, events: UnpositionedJobEvent[], options: AppendOptions): Promise<AppendResult> {
    this.appends++;
    const append = () => this.inner.append(jobId, events, options);
    const interceptor = this.interceptors.shift();
    return interceptor ? interceptor(append, jobId, options) : append();
  }

  readJob(jobId: string, options?: ReadJobOptions): Promise<EncodedJobEventCommit[]> {
    return this.inner.readJob(jobId, options);
  }
  subscribe(options: SubscribeOptions) {
    return this.inner.subscribe(options);
  }
  headPosition(): Promise<number> {
    return this.inner.headPosition();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const refuse: Interceptor = async (_append, jobId, { expectedPosition }) => {
  throw new ConcurrencyError(jobId, expectedPosition);
};

/** One command-service instance: its own job cache, on the shared store. */
function instance(store: EventStore, attempts = 8) {
  const handler = new ExecuteJobCommandHandler(new JobRepository(store), store, attempts);
  return (name: CommandName, body: Record<string, unknown>): Promise<CommandReply> =>
    handler.execute(new ExecuteJobCommand(name, body as CommandBody));
}

type Send = ReturnType<typeof instance>;

describe('ExecuteJobCommandHandler', () => {
  let store: ControlledStore;
  let send: Send;
  beforeEach(() => {
    store = new ControlledStore();
    send = instance(store);
  });
  afterEach(() => store.close());

  const stored = async (jobId: string) =>
    (await readJobEvents(store, jobId)).map(({ type, version, position, commandId }) => ({ type, version, position, commandId }));

  async function runningJob(jobId = 'job-1', via: Send = send): Promise<string> {
    await via('create', { jobId, label: 'Contacts', kind: 'import' });
    await via('start', { jobId });
    return jobId;
  }

  describe('a command', () => {
    it('appends the events decided on the job and answers its version, position and status', async () => {
      expect(await send('create', { jobId: 'job-1', label: 'Contacts', kind: 'import', commandId: 'c-1', actor: 'alice' })).toEqual({
        ok: true,
        jobId: 'job-1',
        version: 1,
        position: 1,
        status: 'editing',
      });
      expect(await send('start', { jobId: 'job-1', commandId: 'c-2' })).toEqual({
        ok: true,
        jobId: 'job-1',
        version: 2,
        position: 2,
        status: 'running',
      });
      const events = await readJobEvents(store, 'job-1');
      expect(events.map(({ type, version, position, commandId, actor }) => ({ type, version, position, commandId, actor }))).toEqual([
        { type: 'Created', version: 1, position: 1, commandId: 'c-1', actor: 'alice' },
        { type: 'Started', version: 2, position: 2, commandId: 'c-2', actor: 'anonymous' },
      ]);
    });

    it('answers a command the status does not take with INVALID_TRANSITION and appends nothing', async () => {
      await send('create', { jobId: 'job-1', label: 'Contacts', kind: 'import' });
      const reply = await send('pause', { jobId: 'job-1' });
      expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_TRANSITION', status: 'editing', command: 'pause' } });
      expect(await store.headPosition()).toBe(1);
    });
  });

  describe('idempotent replies', () => {
    it('answers a command sent again with the same commandId with the first reply, and appends nothing', async () => {
      const jobId = await runningJob();
      const first = await send('progress', { jobId, processed: 5, commandId: 'p-1' });
      expect(first).toEqual({ ok: true, jobId, version: 3, position: 3, status: 'running' });
      expect(await send('progress', { jobId, processed: 5, commandId: 'p-1' })).toEqual(first);
      // Still the first reply once the job has moved on, and from an instance that never saw it.
      await send('pause', { jobId });
      expect(await send('progress', { jobId, processed: 5, commandId: 'p-1' })).toEqual(first);
      expect(await instance(store)('progress', { jobId, processed: 5, commandId: 'p-1' })).toEqual(first);
      expect((await stored(jobId)).map((event) => event.type)).toEqual(['Created', 'Started', 'ProgressReported', 'Paused']);
    });

    it('answers a command sent again after a no-op with its first reply', async () => {
      const jobId = await runningJob();
      const first = await send('pause', { jobId, commandId: 'pause-1' });
      const noOp = await send('pause', { jobId, commandId: 'pause-2' });
      expect(noOp).toEqual({ ok: true, jobId, version: 3, position: 3, status: 'paused' });
      // The no-op sent again: the job has not moved, the same reply.
      expect(await send('pause', { jobId, commandId: 'pause-2' })).toEqual(noOp);
      expect(await send('pause', { jobId, commandId: 'pause-1' })).toEqual(first);
      expect(await store.headPosition()).toBe(3);
    });

    it('lands a create with a commandId and no jobId on the same job, from any instance', async () => {
      const body = { label: 'Nightly export', kind: 'export', commandId: 'create-1' };
      const first = await send('create', body);
      expect(first).toEqual({ ok: true, jobId: newJobId('create-1'), version: 1, position: 1, status: 'editing' });
      expect(await send('create', body)).toEqual(first);
      expect(await instance(store)('create', body)).toEqual(first);
      expect(await store.headPosition()).toBe(1);
    });

    it('answers a command that another instance stored with the first reply, though this instance had the job cached', async () => {
      const jobId = await runningJob();
      const first = await instance(store)('pause', { jobId, commandId: 'pause-1' });
      // This instance's cached job is still running: it decides a pause, which the store already holds.
      expect(await send('pause', { jobId, commandId: 'pause-1' })).toEqual(first);
      expect((await stored(jobId)).map((event) => event.type)).toEqual(['Created', 'Started', 'Paused']);
    });
  });

  describe('a commandId sent again with another command', () => {
    const reusedReply = (commandId: string, jobId: string) => ({
      ok: false,
      error: {
        code: 'COMMAND_ID_REUSED',
        message: `commandId "${commandId}" was already used for another command on job ${jobId}; send a new commandId for a new command, or resend the very same command to get its first reply`,
      },
    });

    it('refuses the same command name with another body, appends nothing, and still answers the first one', async () => {
      const jobId = await runningJob();
      const first = await send('progress', { jobId, processed: 5, commandId: 'p-1' });
      expect(await send('progress', { jobId, processed: 6, commandId: 'p-1' })).toEqual(reusedReply('p-1', jobId));
      // Every field but the commandId is part of the command.
      expect(await send('progress', { jobId, processed: 5, actor: 'bob', commandId: 'p-1' })).toEqual(reusedReply('p-1', jobId));
      expect(await send('progress', { jobId, processed: 5, expectedVersion: 2, commandId: 'p-1' })).toEqual(reusedReply('p-1', jobId));
      expect(await store.headPosition()).toBe(3);
      expect(await send('progress', { jobId, processed: 5, commandId: 'p-1' })).toEqual(first);
    });

    it('refuses another command name with the same commandId, from any instance', async () => {
      const jobId = await runningJob();
      await send('pause', { jobId, commandId: 'c-1' });
      expect(await send('cancel', { jobId, commandId: 'c-1' })).toEqual(reusedReply('c-1', jobId));
      expect(await instance(store)('cancel', { jobId, commandId: 'c-1' })).toEqual(reusedReply('c-1', jobId));
      expect(await store.headPosition()).toBe(3);
    });

    it('refuses it on an instance whose cached job is stale, where the store holds the first command', async () => {
      const jobId = await runningJob();
      await instance(store)('pause', { jobId, commandId: 'c-1' });
      expect(await send('cancel', { jobId, commandId: 'c-1' })).toEqual(reusedReply('c-1', jobId));
      expect((await stored(jobId)).map((event) => event.type)).toEqual(['Created', 'Started', 'Paused']);
    });

    it('refuses another create with the commandId of a create without jobId, rather than JOB_EXISTS or the first reply', async () => {
      const first = await send('create', { label: 'Nightly export', kind: 'export', commandId: 'create-1' });
      const other = { label: 'Weekly export', kind: 'export', commandId: 'create-1' };
      expect(first).toMatchObject({ jobId: newJobId('create-1') });
      expect(await send('create', other)).toEqual(reusedReply('create-1', newJobId('create-1')));
      // An instance that never saw the job decides the create on a blank job; the store holds the first.
      expect(await instance(store)('create', other)).toEqual(reusedReply('create-1', newJobId('create-1')));
      expect(await store.headPosition()).toBe(1);
    });

    it('answers the first reply to the same command with its fields in another order', async () => {
      const jobId = await runningJob();
      const first = await send('fail', { jobId, commandId: 'f-1', error: { message: 'disk full', code: 'ENOSPC' }, actor: 'executor' });
      expect(await send('fail', { actor: 'executor', error: { code: 'ENOSPC', message: 'disk full' }, commandId: 'f-1', jobId })).toEqual(
        first,
      );
    });

    it('records the digest on the events of a command with a commandId, and none without', async () => {
      await send('create', { jobId: 'job-1', label: 'Contacts', kind: 'import' });
      await send('start', { jobId: 'job-1', commandId: 's-1' });
      const [created, started] = await readJobEvents(store, 'job-1');
      expect(created).not.toHaveProperty('commandDigest');
      expect(started!.commandDigest).toMatch(/^[A-Za-z0-9_-]{22}$/);
    });

    it('answers the first reply when the stored events have no digest (stored before digests were recorded)', async () => {
      const jobId = await runningJob();
      const commandId = 'old-1';
      const at = new Date().toISOString();
      const { position } = await store.append(
        jobId,
        [
          {
            eventId: `${jobId}:3`,
            type: 'PauseRequested',
            schemaVersion: 1,
            jobId,
            version: 3,
            at,
            commandId,
            correlationId: commandId,
            causationId: commandId,
            actor: 'alice',
            data: {},
          },
        ],
        { expectedPosition: 2, commitId: `${jobId}:${commandId}` },
      );
      expect(await instance(store)('cancel', { jobId, commandId })).toEqual({ ok: true, jobId, version: 3, position, status: 'pausing' });
      expect(await store.headPosition()).toBe(position);
    });
  });

  describe('a stale cached job', () => {
    let other: Send;
    beforeEach(() => {
      other = instance(store);
    });

    it('decides a command again on the job another instance moved on, and appends at the new version', async () => {
      const jobId = await runningJob();
      await other('pause', { jobId, commandId: 'elsewhere' });
      // Cached here as running: a cancel decided on it is refused, then decided on the paused job.
      const reply = await send('cancel', { jobId, commandId: 'cancel-1' });
      expect(reply).toEqual({ ok: true, jobId, version: 4, position: 4, status: 'cancelled' });
      expect(await stored(jobId)).toEqual([
        { type: 'Created', version: 1, position: 1, commandId: expect.any(String) },
        { type: 'Started', version: 2, position: 2, commandId: expect.any(String) },
        { type: 'Paused', version: 3, position: 3, commandId: 'elsewhere' },
        { type: 'Cancelled', version: 4, position: 4, commandId: 'cancel-1' },
      ]);
      expect((await readJobEvents(store, jobId)).at(-1)?.data).toEqual({ previousStatus: 'paused' });
    });

    it('checks an invalid transition decided on a stale job against the store before answering', async () => {
      await send('create', { jobId: 'job-1', label: 'Contacts', kind: 'import' });
      await other('start', { jobId: 'job-1' });
      // Cached here as editing, where pause is invalid; the job is running.
      expect(await send('pause', { jobId: 'job-1' })).toEqual({ ok: true, jobId: 'job-1', version: 3, position: 3, status: 'paused' });
      expect((await stored('job-1')).map((event) => event.type)).toEqual(['Created', 'Started', 'Paused']);
    });

    it('answers an invalid transition with the status the job has in the store', async () => {
      const jobId = await runningJob();
      await other('finish', { jobId });
      const reply = await send('progress', { jobId, processed: 1 });
      expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_TRANSITION', status: 'finished', command: 'progress' } });
      expect(await store.headPosition()).toBe(3);
    });

    it('answers a no-op decided on a stale job with the job as the store has it', async () => {
      const jobId = await runningJob();
      await send('claim', { jobId, executor: 'executor-1' });
      await send('pause', { jobId });
      await other('mark-paused', { jobId });
      // Cached here as pausing, where a pause is a no-op; still a no-op once paused, at version 5.
      expect(await send('pause', { jobId })).toEqual({ ok: true, jobId, version: 5, position: 5, status: 'paused' });
      expect(await store.headPosition()).toBe(5);
    });
  });

  describe('retries', () => {
    it('decides a command again on the refreshed job when its append is refused', async () => {
      const jobId = await runningJob();
      const other = instance(store);
      // Another instance appends between this one's decision and its append.
      store.intercept(async (append) => {
        await other('log', { jobId, level: 'info', message: 'from elsewhere', commandId: 'log-1' });
        return append();
      });
      const appendsBefore = store.appends;
      expect(await send('pause', { jobId, commandId: 'pause-1' })).toEqual({ ok: true, jobId, version: 4, position: 4, status: 'paused' });
      // The refused pause, the other instance's log, the pause again.
      expect(store.appends - appendsBefore).toBe(3);
      expect((await stored(jobId)).slice(2)).toEqual([
        { type: 'MessageLogged', version: 3, position: 3, commandId: 'log-1' },
        { type: 'Paused', version: 4, position: 4, commandId: 'pause-1' },
      ]);
    });

    it('answers CONCURRENCY_CONFLICT after `attempts` refused appends, and appends nothing', async () => {
      const send3 = instance(store, 3);
      const jobId = await runningJob('job-1', send3);
      store.intercept(refuse, refuse, refuse);
      const appendsBefore = store.appends;
      const reply = await send3('pause', { jobId });
      expect(reply).toMatchObject({ ok: false, error: { code: 'CONCURRENCY_CONFLICT' } });
      expect(reply.ok || reply.error.message).toBe(
        `job ${jobId} kept changing while this command was applied; 3 attempts failed, read it and retry`,
      );
      expect(store.appends - appendsBefore).toBe(3);
      expect(await store.headPosition()).toBe(2);
      // The next command is decided on the job read again.
      expect(await send3('pause', { jobId })).toMatchObject({ ok: true, version: 3, status: 'paused' });
    });
  });

  describe('an append that times out', () => {
    it('answers TIMEOUT with the advice to retry with the same commandId, which then appends nothing twice', async () => {
      const jobId = await runningJob();
      // JetStream stored the commit, but its acknowledgement did not come in time.
      store.intercept(async (append) => {
        await append();
        throw new AppendTimeout('JetStream did not acknowledge the append within 5000 ms');
      });
      const reply = await send('pause', { jobId, commandId: 'pause-1' });
      expect(reply).toEqual({
        ok: false,
        error: { code: 'TIMEOUT', message: 'JetStream did not acknowledge the append within 5000 ms; retry it with the same commandId' },
      });
      expect(await send('pause', { jobId, commandId: 'pause-1' })).toEqual({ ok: true, jobId, version: 3, position: 3, status: 'paused' });
      expect((await stored(jobId)).map((event) => event.type)).toEqual(['Created', 'Started', 'Paused']);
    });

    it('answers TIMEOUT without a commandId with the advice to read the job first and send one', async () => {
      const jobId = await runningJob();
      store.intercept(async () => {
        throw new AppendTimeout('JetStream did not acknowledge the append within 5000 ms');
      });
      expect(await send('pause', { jobId })).toEqual({
        ok: false,
        error: {
          code: 'TIMEOUT',
          message:
            'JetStream did not acknowledge the append within 5000 ms; it may or may not have been applied: read the job before sending it again, and send a commandId to make retries safe',
        },
      });
    });
  });

  describe('a commit larger than the NATS server takes', () => {
    it('answers PAYLOAD_TOO_LARGE with its size and the limit, saying how to send less, and appends nothing', async () => {
      const jobId = await runningJob();
      store.intercept(async () => {
        throw new CommitTooLarge(1_200_000, 1_048_576);
      });
      const records = [{ line: 1, reason: 'wide', record: [1e20] }];
      expect(await send('reject', { jobId, records })).toEqual({
        ok: false,
        error: {
          code: 'PAYLOAD_TOO_LARGE',
          message:
            "its events would take 1200000 bytes, more than the NATS server's max_payload of 1048576 (numbers such as 1E20 " +
            'are stored written out): send the records in several reject commands of fewer records',
          size: 1_200_000,
          limit: 1_048_576,
        },
      });
      expect(await store.headPosition()).toBe(2);
    });
  });
});
