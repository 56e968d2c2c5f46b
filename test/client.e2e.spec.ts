import { errors, type NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent } from '#contracts';
import { isJobsError, JobsClient } from '#client';
import { startSecuredNats, type NatsUser, type SecuredNats } from '#testing/secured-nats';
import { startTestService, type TestService } from '#testing/service';

/** The SDK against the service on the real NATS server: what an integrator's code would do. */
let service: TestService;

beforeAll(async () => {
  service = await startTestService('client', { sides: ['commands', 'queries'] });
});

afterAll(async () => {
  await service?.close();
});

/** The service's connection with a request count, and the first `lost` replies lost: the request reached the service, the caller got a timeout. */
function losingReplies(nc: NatsConnection, lost = 0) {
  const sent: string[] = [];
  const request: NatsConnection['request'] = async (subject, data, options) => {
    sent.push(String(data));
    const reply = await nc.request(subject, data, options);
    if (sent.length <= lost) throw new errors.TimeoutError();
    return reply;
  };
  const lossy = new Proxy(nc, {
    get: (target, property) => (property === 'request' ? request : Reflect.get(target, property, target)),
  });
  return { nc: lossy, sent };
}

const clientOn = (nc: NatsConnection, options: { actor?: string } = {}) =>
  new JobsClient(nc, { subjectPrefix: service.config.subjectPrefix, stream: service.config.stream, retry: { backoffMs: 10 }, ...options });

/** The first `count` events of `events`, or fewer if none come for 5 s. */
async function take(events: (signal: AbortSignal) => AsyncIterable<JobEvent>, count: number): Promise<JobEvent[]> {
  const taken: JobEvent[] = [];
  for await (const event of events(AbortSignal.timeout(5_000))) {
    taken.push(event);
    if (taken.length === count) break;
  }
  return taken;
}

describe('a job driven with the SDK', () => {
  let jobId: string;
  const replies: { position: number }[] = [];

  beforeAll(async () => {
    const operator = clientOn(service.nc, { actor: 'alice' });
    const executor = clientOn(service.nc, { actor: 'executor-1' });
    const created = await operator.create({ label: 'Nightly contacts import', kind: 'import', definition: { source: 'contacts.csv' } });
    jobId = created.jobId;
    replies.push(
      created,
      await operator.start({ jobId }),
      await executor.progress({ jobId, processed: 500, total: 1000 }),
      await executor.reject({ jobId, records: [{ line: 7, reason: 'bad email', record: { email: 'x' } }] }),
      await executor.finish({ jobId, processed: 1000, total: 1000 }),
    );
  });

  it('gets each command’s ok reply, and reads the job back with the queries', async () => {
    expect(replies.at(-1)).toMatchObject({ ok: true, jobId, version: 5, status: 'finished' });
    const client = clientOn(service.nc);
    const minPosition = replies.at(-1)!.position;
    const { job } = await client.get({ jobId, minPosition });
    expect(job).toMatchObject({ status: 'finished', createdBy: 'alice', processed: 1000, total: 1000, rejected: 1, progress: 100 });
    expect((await client.list({ text: 'nightly contacts', minPosition })).items.map((item) => item.jobId)).toEqual([jobId]);
    const { items: logs } = await client.logs({ jobId });
    expect(logs[0]!.message).toContain('created by alice');
    expect(logs.at(-1)).toMatchObject({ eventType: 'Finished' });
    expect(await client.rejects({ jobId })).toMatchObject({ items: [{ line: 7, reason: 'bad email', record: { email: 'x' } }], total: 1 });
    const history = await client.history({ jobId, atVersion: 1 });
    expect(history.events.map((event) => [event.type, event.actor])).toEqual([['Created', 'alice']]);
    expect(history.state?.definition).toEqual({ source: 'contacts.csv' });
  });

  it('watch yields its events in order from position 0, each with its commit’s position, and resumes after a position', async () => {
    const client = clientOn(service.nc);
    const events = await take((signal) => client.watch(jobId, { signal }), 5);
    expect(events.map((event) => [event.type, event.version, event.position, event.actor])).toEqual([
      ['Created', 1, replies[0]!.position, 'alice'],
      ['Started', 2, replies[1]!.position, 'alice'],
      ['ProgressReported', 3, replies[2]!.position, 'executor-1'],
      ['RecordsRejected', 4, replies[3]!.position, 'executor-1'],
      ['Finished', 5, replies[4]!.position, 'executor-1'],
    ]);
    const resumed = await take((signal) => client.watch(jobId, { fromPosition: replies[1]!.position, signal }), 3);
    expect(resumed.map((event) => event.version)).toEqual([3, 4, 5]);
  });

  it('watchAll follows live: it sees a second job’s events as they are appended, until its signal aborts', async () => {
    const client = clientOn(service.nc);
    const stop = new AbortController();
    const seen: JobEvent[] = [];
    const following = (async () => {
      for await (const event of client.watchAll({ fromPosition: replies.at(-1)!.position, signal: stop.signal })) {
        seen.push(event);
        if (event.type === 'Started') stop.abort();
      }
    })();
    const second = await client.create({ label: 'Weekly orders export', kind: 'export' });
    await client.start({ jobId: second.jobId });
    await Promise.race([
      following,
      new Promise((_, reject) => setTimeout(() => reject(new Error('watchAll saw no Started within 5 s')), 5_000)),
    ]);
    expect(seen.map((event) => [event.jobId, event.type])).toEqual([
      [second.jobId, 'Created'],
      [second.jobId, 'Started'],
    ]);
  });
});

describe('retries', () => {
  it('a command whose reply is lost is retried with its commandId and applied once; a create without a jobId lands on one job', async () => {
    const { nc, sent } = losingReplies(service.nc, 2);
    const client = clientOn(nc);
    const created = await client.create({ label: 'Retried import', kind: 'import' });
    expect(sent).toHaveLength(3);
    expect(new Set(sent).size).toBe(1);
    expect(created).toMatchObject({ ok: true, version: 1 });
    expect((await service.storedJob(created.jobId)).events.map((event) => event.type)).toEqual(['Created']);
    expect((await client.list({ text: 'Retried import', minPosition: created.position })).total).toBe(1);
  });

  it('a command sent twice with the same commandId gets the first reply and appends once', async () => {
    const client = clientOn(service.nc);
    const { jobId } = await client.create({ label: 'Twice', kind: 'import' });
    await client.start({ jobId });
    const first = await client.progress({ jobId, processed: 10, commandId: 'progress-10' });
    const again = await client.progress({ jobId, processed: 10, commandId: 'progress-10' });
    expect(again).toEqual(first);
    expect((await service.storedJob(jobId)).events.map((event) => event.type)).toEqual(['Created', 'Started', 'ProgressReported']);
  });

  it('a domain error is thrown as a JobsError with its fields, and never retried', async () => {
    const { nc, sent } = losingReplies(service.nc);
    const client = clientOn(nc);
    const { jobId } = await client.create({ label: 'Finished early', kind: 'export' });
    await client.cancel({ jobId });
    const error = await client.start({ jobId }).catch((e: unknown) => e);
    expect(isJobsError(error, 'INVALID_TRANSITION') && error.error.status).toBe('cancelled');
    expect(sent).toHaveLength(3);
    await expect(client.get({ jobId: 'no-such-job' })).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
  });
});

describe('under deploy/nats/jobs.conf', () => {
  let nats: SecuredNats;
  const clients: JobsClient[] = [];
  const connectAs = async (user: NatsUser) => {
    const client = await JobsClient.connect({
      servers: nats.url,
      user,
      password: nats.passwords[user],
      actor: user,
      retry: { backoffMs: 10 },
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    nats = await startSecuredNats('client-permissions');
    await nats.startService();
  });

  afterAll(async () => {
    for (const client of clients) await client.close();
    await nats?.stop();
  });

  it('an executor sends the executor’s commands as itself and follows the job; an operator’s command is refused by the server at once', async () => {
    const alice = await connectAs('alice');
    const executor = await connectAs('executor-1');
    const { jobId } = await alice.create({ label: 'Contacts import', kind: 'import' });
    await alice.start({ jobId });
    await executor.progress({ jobId, processed: 1 });

    const started = performance.now();
    const refused = await executor.pause({ jobId }).catch((e: unknown) => e);
    expect(String((refused as Error).cause ?? refused)).toContain('Permissions Violation for Publish to "jobs.cmd.pause.as.executor-1"');
    expect(performance.now() - started).toBeLessThan(1_000);

    await executor.finish({ jobId, processed: 1 });
    const events = await take((signal) => executor.watch(jobId, { signal }), 4);
    expect(events.map((event) => [event.type, event.actor, event.actorAuthenticated])).toEqual([
      ['Created', 'alice', true],
      ['Started', 'alice', true],
      ['ProgressReported', 'executor-1', true],
      ['Finished', 'executor-1', true],
    ]);
  });
});
