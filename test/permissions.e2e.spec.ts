import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DiscardPolicy, JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { errors, headers, type NatsConnection } from '@nats-io/nats-core';
import { type ObjectStore, Objm } from '@nats-io/obj';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_NAMES, EVENT_HEADERS, type JobEvent } from '#contracts';
import { DEFAULT_FILES_BUCKET, JobFiles } from '#import-export-worker';
import { NATS_USERS, startSecuredNats, type NatsUser as User, type SecuredNats } from '#testing/secured-nats';

/**
 * The repository's nats-server configuration, as it ships, on a server of this test's own: every
 * forbidden act is refused by the server itself, and every act each user needs works.
 */
const CLIENTS = NATS_USERS.filter((user) => user !== 'service');

let nats: SecuredNats;
const as = {} as Record<User, NatsConnection>;

beforeAll(async () => {
  nats = await startSecuredNats('permissions');
  await nats.startService();
  for (const user of NATS_USERS) as[user] = await nats.connectAs(user);
});

afterAll(async () => {
  await nats?.stop();
});

/** The reply of a request the server let through. */
async function request(user: User, subject: string, body: unknown = {}): Promise<any> {
  return (await as[user].request(subject, JSON.stringify(body), { timeout: 10_000 })).json();
}

async function ok(user: User, subject: string, body: unknown = {}): Promise<any> {
  const reply = await request(user, subject, body);
  expect(reply, `${user} on ${subject}`).toMatchObject({ ok: true });
  return reply;
}

/** What the server said when it refused a request: its "Permissions Violation for Publish to …". */
async function requestRefused(user: User, subject: string, body: unknown = {}): Promise<void> {
  const error = await as[user].request(subject, JSON.stringify(body), { timeout: 5_000 }).then(
    () => null,
    (error: Error) => error,
  );
  expect(permissionViolation(error), `${user} on ${subject}: ${String(error)}`).toBe(`Permissions Violation for Publish to "${subject}"`);
}

/** A plain publish has no reply: the server's refusal comes back on the connection's status. */
async function publishRefused(user: User, subject: string, data: string, headerValues?: Record<string, string>): Promise<void> {
  const nc = as[user];
  const refusal = nextViolation(nc, subject);
  let messageHeaders: ReturnType<typeof headers> | undefined;
  if (headerValues) {
    messageHeaders = headers();
    for (const [key, value] of Object.entries(headerValues)) messageHeaders.set(key, value);
  }
  nc.publish(subject, data, { headers: messageHeaders });
  await nc.flush();
  expect(await refusal, `${user} publishing to ${subject}`).toBe(`Permissions Violation for Publish to "${subject}"`);
}

async function subscriptionRefused(user: User, subject: string, queue?: string): Promise<void> {
  const subscription = as[user].subscribe(subject, { queue, callback: () => undefined });
  const error = await Promise.race([subscription.closed, new Promise((resolve) => setTimeout(() => resolve('still subscribed'), 5_000))]);
  const expected = `Permissions Violation for Subscription to "${subject}"${queue ? ` using queue "${queue}"` : ''}`;
  expect(permissionViolation(error), `${user} subscribing to ${subject}`).toBe(expected);
}

function nextViolation(nc: NatsConnection, subject: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not refuse ${subject}`)), 5_000);
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'error' && status.error instanceof errors.PermissionViolationError && status.error.subject === subject) {
          clearTimeout(timer);
          resolve(status.error.message);
          break;
        }
      }
    })();
  });
}

/** The server's words when the error is its permissions refusal, null otherwise. */
function permissionViolation(error: unknown): string | null {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof errors.PermissionViolationError) return cause.message;
  }
  return null;
}

/** A job created and started by alice, as the service records it. */
async function runningJob(label: string): Promise<{ jobId: string; position: number }> {
  const { jobId } = await ok('alice', 'jobs.cmd.create.as.alice', { label, kind: 'import' });
  const { position } = await ok('alice', 'jobs.cmd.start.as.alice', { jobId });
  return { jobId, position };
}

async function streamMessages(): Promise<number> {
  return (await (await jetstreamManager(as.reader)).streams.info('JOBS')).state.messages;
}

describe('only the service writes events', () => {
  it('refuses every other user publishing to jobs.events.<id>: not JSON, a forged Finished, through JetStream; the job goes on', async () => {
    const { jobId, position } = await runningJob('Forgery target');
    const before = await streamMessages();
    const forged = JSON.stringify([
      {
        eventId: `${jobId}:3`,
        type: 'Finished',
        schemaVersion: 1,
        jobId,
        version: 3,
        at: new Date().toISOString(),
        commandId: 'forged',
        correlationId: 'forged',
        causationId: 'forged',
        actor: 'alice',
        data: {},
      },
    ]);
    const forgedHeaders = { [EVENT_HEADERS.type]: 'Finished', [EVENT_HEADERS.jobId]: jobId, [EVENT_HEADERS.version]: '3' };
    for (const user of CLIENTS) {
      await publishRefused(user, `jobs.events.${jobId}`, 'this is not json');
      await publishRefused(user, `jobs.events.${jobId}`, forged, forgedHeaders);
      const viaJetStream = await jetstream(as[user])
        .publish(`jobs.events.${jobId}`, forged)
        .then(
          () => null,
          (error: Error) => error,
        );
      expect(permissionViolation(viaJetStream), user).toBe(`Permissions Violation for Publish to "jobs.events.${jobId}"`);
    }
    expect(await streamMessages()).toBe(before);
    const { job } = await ok('reader', 'jobs.query.get', { jobId, minPosition: position });
    expect(job).toMatchObject({ status: 'running', version: 2 });
    expect(await ok('executor-1', 'jobs.cmd.progress.as.executor-1', { jobId, processed: 1 })).toMatchObject({ version: 3 });
  });
});

describe('only the service answers the API', () => {
  it("refuses every other user's subscription to the API's subjects, in its queue groups or not, and every command gets the service's reply", async () => {
    for (const user of CLIENTS) {
      await subscriptionRefused(user, 'jobs.cmd.>', 'jobs.cmd');
      await subscriptionRefused(user, 'jobs.cmd.>');
      await subscriptionRefused(user, 'jobs.query.>', 'jobs.query');
      await subscriptionRefused(user, 'jobs.admin.>');
    }
    const { jobId } = await runningJob('Impersonation target');
    const before = await streamMessages();
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) => ok('alice', 'jobs.cmd.log.as.alice', { jobId, level: 'info', message: `line ${i}` })),
    );
    // Forty real appends: a forged "ok" would append nothing.
    expect(new Set(replies.map((reply) => reply.version)).size).toBe(40);
    expect(await streamMessages()).toBe(before + 40);
  });

  it("refuses a reply forged onto another client's inbox", async () => {
    for (const user of CLIENTS) await publishRefused(user, '_INBOX.someone-elses.1', '{"ok":true}');
  });
});

describe('who may send which command', () => {
  it("lets an executor send only the executor's commands, under its own name", async () => {
    for (const name of ['create', 'update', 'start', 'pause', 'cancel']) {
      await requestRefused('executor-1', `jobs.cmd.${name}.as.executor-1`, { jobId: 'any' });
    }
    await requestRefused('executor-1', 'jobs.cmd.progress.as.bob', { jobId: 'any', processed: 1 });
    await requestRefused('executor-1', 'jobs.cmd.finish', { jobId: 'any' });
  });

  it("lets an operator send only the operator's commands, as itself", async () => {
    await requestRefused('alice', 'jobs.cmd.start.as.bob', { jobId: 'any' });
    await requestRefused('alice', 'jobs.cmd.start', { jobId: 'any', actor: 'bob' });
    for (const name of ['mark-paused', 'mark-cancelled', 'finish', 'fail', 'shutdown', 'progress', 'reject']) {
      await requestRefused('alice', `jobs.cmd.${name}.as.alice`, { jobId: 'any' });
    }
  });

  it('lets a reader send no command at all, under any name', async () => {
    for (const name of COMMAND_NAMES) {
      await requestRefused('reader', `jobs.cmd.${name}`, { jobId: 'any' });
      await requestRefused('reader', `jobs.cmd.${name}.as.reader`, { jobId: 'any' });
    }
  });

  it('lets only the admin rebuild the read models or read their status', async () => {
    for (const user of ['executor-1', 'alice', 'reader', 'gateway'] as const) {
      await requestRefused(user, 'jobs.admin.rebuild-read-models');
      await requestRefused(user, 'jobs.admin.read-models-status');
    }
    expect(await ok('admin', 'jobs.admin.rebuild-read-models')).toMatchObject({ ok: true, position: expect.any(Number) });
  });
});

describe('the events stream', () => {
  it('cannot be deleted, purged, reconfigured or shadowed by any user but the service', async () => {
    await runningJob('Kept');
    const before = await streamMessages();
    for (const user of CLIENTS) {
      const jsm = await jetstreamManager(as[user]);
      const attempts: [string, () => Promise<unknown>][] = [
        ['$JS.API.STREAM.DELETE.JOBS', () => jsm.streams.delete('JOBS')],
        ['$JS.API.STREAM.PURGE.JOBS', () => jsm.streams.purge('JOBS')],
        ['$JS.API.STREAM.UPDATE.JOBS', () => jsm.streams.update('JOBS', { discard: DiscardPolicy.New })],
        ['$JS.API.STREAM.MSG.DELETE.JOBS', () => jsm.streams.deleteMessage('JOBS', 1)],
        // A stream on the command subjects would acknowledge commands in the service's place.
        ['$JS.API.STREAM.CREATE.SHADOW', () => jsm.streams.add({ name: 'SHADOW', subjects: ['jobs.cmd.>'] })],
      ];
      for (const [subject, attempt] of attempts) {
        const error = await attempt().then(
          () => null,
          (error: Error) => error,
        );
        expect(permissionViolation(error), `${user}: ${subject}`).toBe(`Permissions Violation for Publish to "${subject}"`);
      }
    }
    expect(await streamMessages()).toBe(before);
  });
});

describe('what each user may do', () => {
  it('runs a job through: alice creates and starts it, the executor reports and finishes, a reader follows, the admin rebuilds', async () => {
    const { jobId } = await ok('alice', 'jobs.cmd.create.as.alice', { label: 'Nightly contacts import', kind: 'import' });
    await ok('alice', 'jobs.cmd.start.as.alice', { jobId });
    await ok('executor-1', 'jobs.cmd.progress.as.executor-1', { jobId, processed: 5, total: 10 });
    await ok('executor-1', 'jobs.cmd.reject.as.executor-1', { jobId, records: [{ line: 7, reason: 'bad email', record: { email: 'x' } }] });
    await ok('gateway', 'jobs.cmd.log.as.carol', { jobId, level: 'info', message: 'seen in the console' });
    const finished = await ok('executor-1', 'jobs.cmd.finish.as.executor-1', { jobId, processed: 10, total: 10 });

    const { job } = await ok('reader', 'jobs.query.get', { jobId, minPosition: finished.position });
    expect(job).toMatchObject({ status: 'finished', createdBy: 'alice', rejected: 1 });
    const { items } = await ok('reader', 'jobs.query.logs', { jobId });
    expect(items[0].message).toContain('created by alice');

    // The events say who sent each command, and that the server vouched for it.
    const consumer = await jetstream(as.reader).consumers.get('JOBS', { filter_subjects: `jobs.events.${jobId}` });
    const events: JobEvent[] = [];
    for await (const message of await consumer.fetch({ max_messages: 100, expires: 2_000 })) {
      events.push(...message.json<JobEvent[]>());
      if (message.info.pending === 0) break;
    }
    expect(events.map((event) => [event.type, event.actor, event.actorAuthenticated])).toEqual([
      ['Created', 'alice', true],
      ['Started', 'alice', true],
      ['ProgressReported', 'executor-1', true],
      ['RecordsRejected', 'executor-1', true],
      ['MessageLogged', 'carol', true],
      ['Finished', 'executor-1', true],
    ]);
    const last = await (await jetstreamManager(as.reader)).direct.getMessage('JOBS', { last_by_subj: `jobs.events.${jobId}` });
    expect(last?.header.get(EVENT_HEADERS.version)).toBe('6');

    // The rejects export is the reader's to fetch.
    const exported = await ok('reader', 'jobs.query.rejects-export', { jobId });
    const csv = await (await new Objm(as.reader).open(exported.bucket)).getBlob(exported.name);
    expect(new TextDecoder().decode(csv!)).toContain('bad email');

    expect(await ok('admin', 'jobs.admin.rebuild-read-models')).toMatchObject({ position: expect.any(Number) });
    expect((await ok('admin', 'jobs.query.get', { jobId })).job).toMatchObject({ status: 'finished' });
  });

  it('lets every user that may query download a rejects export of many chunks, answering its flow control', async () => {
    // The service's own rejects exports bucket, as rejects-export makes it; the object stands for a large export.
    const name = `rejects/${randomUUID()}.csv`;
    const csv = randomBytes(3 * 1024 * 1024);
    await (await new Objm(as.service).create('JOBS_exports')).putBlob({ name }, csv);
    for (const user of ['alice', 'reader', 'admin', 'gateway'] as const) {
      const downloaded = await (await new Objm(as[user]).open('JOBS_exports')).getBlob(name);
      expect(Buffer.from(downloaded!).equals(csv), user).toBe(true);
    }
  });

  it('refuses a body whose actor is not the one the subject names', async () => {
    const reply = await request('alice', 'jobs.cmd.create.as.alice', { label: 'Not mine', kind: 'import', actor: 'bob' });
    expect(reply).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
  });
});

describe("the jobs' files bucket", () => {
  const bucket = DEFAULT_FILES_BUCKET;
  const stream = `OBJ_${bucket}`;
  // Several chunks of 128 KiB: a get goes through its consumer's flow control.
  const content = randomBytes(3 * 1024 * 1024 + 17);
  const filesDir = mkdtempSync(path.join(tmpdir(), 'permissions-files-'));
  let worker: JobFiles;

  beforeAll(() => {
    // The import/export worker's own files, as executor-1: its first use creates the bucket.
    worker = new JobFiles(filesDir, bucket, as['executor-1']);
  });

  afterAll(() => {
    rmSync(filesDir, { recursive: true, force: true });
  });

  /** An export written by the worker, as its export handler writes one. */
  async function workerExport(jobId: string): Promise<string> {
    const name = `exports/${jobId}/people.csv`;
    await worker.write({ object: name }, jobId, (output) => pipeline(Readable.from([content]), output));
    return name;
  }

  async function workerReads(object: string): Promise<Buffer> {
    const source = await worker.source({ object });
    expect(source.size).toBe(content.length);
    return Buffer.concat(await source.open().toArray());
  }

  /** The bucket as the jobs CLI opens it. */
  function openAs(user: User): Promise<ObjectStore> {
    return new Objm(as[user]).open(bucket);
  }

  async function download(store: ObjectStore, name: string): Promise<Buffer> {
    const object = await store.get(name);
    expect(object, name).not.toBeNull();
    const bytes = Buffer.from(await new Response(object!.data).arrayBuffer());
    // Rejects when the bytes do not match the object's digest.
    await object!.error;
    return bytes;
  }

  async function bucketMessages(): Promise<number> {
    return (await (await jetstreamManager(as['executor-1'])).streams.info(stream)).state.messages;
  }

  async function refusal(attempt: Promise<unknown>): Promise<string | null> {
    return permissionViolation(
      await attempt.then(
        () => null,
        (error: Error) => error,
      ),
    );
  }

  it('lets the worker, as executor-1, create it, write an export, replace it and read it back', async () => {
    const name = await workerExport(randomUUID());
    expect((await workerReads(name)).equals(content)).toBe(true);
    // Writing it again replaces it: the client purges the chunks of the object it replaces.
    const before = await bucketMessages();
    await workerExport(name.split('/')[1]!);
    expect(await bucketMessages()).toBe(before);
    expect((await workerReads(name)).equals(content)).toBe(true);
  });

  it('lets alice and the admin upload an import file the worker reads, download its export and remove an upload', async () => {
    for (const user of ['alice', 'admin'] as const) {
      const jobId = randomUUID();
      const store = await openAs(user);
      const upload = `imports/${jobId}/people.csv`;
      const put = await store.put(
        { name: upload, description: `import of job ${jobId}` },
        Readable.toWeb(Readable.from([content])) as ReadableStream<Uint8Array>,
      );
      expect(put.size, user).toBe(content.length);
      expect((await workerReads(upload)).equals(content), user).toBe(true);

      const exported = await workerExport(jobId);
      expect((await download(store, exported)).equals(content), user).toBe(true);

      await store.delete(upload);
      expect((await store.info(upload))?.deleted, user).toBe(true);
    }
  });

  it('lets a reader download an export, and the server refuses its uploads and removals', async () => {
    const exported = await workerExport(randomUUID());
    const store = await openAs('reader');
    expect((await download(store, exported)).equals(content)).toBe(true);

    const before = await bucketMessages();
    const upload = `imports/${randomUUID()}/people.csv`;
    // The put's chunk is refused, then the purge of what it may have left.
    expect(await refusal(store.putBlob({ name: upload }, content))).toMatch(/^Permissions Violation for Publish to "\$/);
    await publishRefused('reader', `$O.${bucket}.C.forged`, 'chunk');
    expect(await refusal(store.delete(exported))).toMatch(/^Permissions Violation for Publish to "\$/);
    expect(await bucketMessages()).toBe(before);
    expect(await store.info(upload)).toBeNull();
    expect((await download(store, exported)).equals(content)).toBe(true);
  });

  it("gives the console's HTTP side (gateway) nothing of it: it never reads or writes the jobs' files", async () => {
    const exported = await workerExport(randomUUID());
    expect(await refusal(openAs('gateway'))).toBe(`Permissions Violation for Publish to "$JS.API.STREAM.INFO.${stream}"`);
    const unchecked = await new Objm(as.gateway).open(bucket, false);
    expect(await refusal(unchecked.get(exported))).toBe(`Permissions Violation for Publish to "$JS.API.STREAM.MSG.GET.${stream}"`);
    await publishRefused('gateway', `$O.${bucket}.C.forged`, 'chunk');
  });

  it('cannot be deleted or reconfigured by any user, created by any but an executor, nor purged by a user that may not write it', async () => {
    await workerExport(randomUUID());
    const before = await bucketMessages();
    for (const user of CLIENTS) {
      const jsm = await jetstreamManager(as[user]);
      const attempts: [string, () => Promise<unknown>][] = [
        [`$JS.API.STREAM.DELETE.${stream}`, () => jsm.streams.delete(stream)],
        [`$JS.API.STREAM.MSG.DELETE.${stream}`, () => jsm.streams.deleteMessage(stream, 1)],
      ];
      if (user !== 'executor-1') {
        attempts.push([`$JS.API.STREAM.CREATE.${stream}`, () => jsm.streams.add({ name: stream, subjects: ['jobs.cmd.>'] })]);
      }
      if (user === 'reader' || user === 'gateway') {
        attempts.push([`$JS.API.STREAM.PURGE.${stream}`, () => jsm.streams.purge(stream)]);
      }
      for (const [subject, attempt] of attempts) {
        expect(await refusal(attempt()), `${user}: ${subject}`).toBe(`Permissions Violation for Publish to "${subject}"`);
      }
      // Sent as is: the client's update asks for the stream's info first, which some may not.
      await requestRefused(user, `$JS.API.STREAM.UPDATE.${stream}`, { name: stream, subjects: [`$O.${bucket}.>`, 'jobs.cmd.>'] });
    }
    // The executor's create, once the bucket exists, cannot put the stream on other subjects.
    const shadow = await (await jetstreamManager(as['executor-1'])).streams.add({ name: stream, subjects: ['jobs.cmd.>'] }).then(
      () => null,
      (error: Error) => error,
    );
    expect(shadow).toBeInstanceOf(JetStreamApiError);
    expect(await bucketMessages()).toBe(before);
    expect((await (await jetstreamManager(as['executor-1'])).streams.info(stream)).config.subjects).toEqual([
      `$O.${bucket}.C.>`,
      `$O.${bucket}.M.>`,
    ]);
  });
});
