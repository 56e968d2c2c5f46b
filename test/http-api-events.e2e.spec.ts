import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConsoleLogger } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpApi, type HttpApi } from '#http-api';
import { UsersFile } from '#operator-access';
import { startTestService, type TestService } from '#testing/service';
import { until } from '#testing/polling';

/** The live job changes of the HTTP API (Server-Sent Events), over real HTTP against the service on the real NATS server. */
let service: TestService;
let api: HttpApi;
let folder: string;
let adminToken: string;
let readerToken: string;
/** The service's own consumers (the projector's), before any stream opens. */
let baseline: number;

beforeAll(async () => {
  service = await startTestService('http_events', { sides: ['commands', 'queries'] });
  folder = mkdtempSync(path.join(tmpdir(), 'http-events-'));
  const usersFile = path.join(folder, 'users.json');
  api = await startHttpApi({
    config: service.config,
    http: { host: '127.0.0.1', port: 0, usersFile, consoleDir: folder },
    logger: new ConsoleLogger('HttpApi', { logLevels: ['error'] }),
    print: () => undefined,
  });
  adminToken = api.firstAdminToken!;
  readerToken = await UsersFile.addUser(usersFile, 'reader', ['read']);
  baseline = await consumerCount();
});

afterAll(async () => {
  await api?.stop();
  await service?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

interface JobChange {
  id: number;
  jobId: string;
  position: number;
  types: string[];
  job: any;
}

/** An open event stream: the job messages received so far, and the comments. */
class EventStream {
  readonly changes: JobChange[] = [];
  readonly comments: string[] = [];
  private readonly abort = new AbortController();
  private reading: Promise<void> = Promise.resolve();

  static async open(query = '', headers: Record<string, string> = {}, token = adminToken): Promise<EventStream> {
    const stream = new EventStream();
    const response = await fetch(new URL(`/api/v1/events${query}`, api.url), {
      headers: { authorization: `Bearer ${token}`, ...headers },
      signal: stream.abort.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    stream.reading = stream.read(response.body!);
    await until(async () => stream.comments.length > 0);
    return stream;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          this.take(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (!this.abort.signal.aborted) throw error;
    }
  }

  private take(block: string): void {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
      else fields.set(line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim());
    }
    if (fields.get('event') === 'job') this.changes.push({ id: Number(fields.get('id')), ...JSON.parse(fields.get('data')!) });
  }

  of(jobId: string): JobChange[] {
    return this.changes.filter((change) => change.jobId === jobId);
  }

  get lastId(): number {
    return this.changes.at(-1)!.id;
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.reading;
  }
}

async function command(name: string, jobId: string | null, body: unknown = undefined): Promise<any> {
  const route = jobId === null ? '/api/v1/jobs' : `/api/v1/jobs/${jobId}/${name}`;
  const response = await fetch(new URL(route, api.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const reply: any = await response.json();
  expect(reply.ok).toBe(true);
  return reply;
}

const createJob = async (label: string) => (await command('create', null, { label, kind: 'import' })).jobId as string;

async function consumerCount(): Promise<number> {
  const jsm = await jetstreamManager(service.nc);
  return (await jsm.streams.info(service.config.stream)).state.consumer_count;
}

describe('GET /api/v1/events', () => {
  it('sends changes live, each with the job as of at least its position', async () => {
    const stream = await EventStream.open();
    const twin = await EventStream.open();
    try {
      const jobId = await createJob('live');
      const started = await command('start', jobId);
      await until(() => stream.of(jobId).at(-1)?.job.status === 'running' && twin.of(jobId).at(-1)?.job.status === 'running');
      const last = stream.of(jobId).at(-1)!;
      expect(last).toMatchObject({ jobId, position: started.position, id: started.position, job: { jobId, version: 2 } });
      expect(stream.of(jobId).flatMap((change) => change.types)).toEqual(['Created', 'Started']);
      // The streams from now share their messages.
      expect(twin.of(jobId)).toEqual(stream.of(jobId));
    } finally {
      await Promise.all([stream.close(), twin.close()]);
    }
  });

  it('shares one consumer between the streams from now, and leaves none behind when the clients go away', async () => {
    await until(async () => (await consumerCount()) === baseline);
    // The streams from now share one consumer; one from a position has its own.
    const streams = await Promise.all([EventStream.open(), EventStream.open('?jobId=any'), EventStream.open('?fromPosition=0')]);
    await until(async () => (await consumerCount()) === baseline + 2);
    await Promise.all(streams.map((stream) => stream.close()));
    await until(async () => (await consumerCount()) === baseline);
  });

  it('resumes after Last-Event-ID with every change since, the final state included', async () => {
    const first = await EventStream.open();
    const jobId = await createJob('resumed');
    await command('start', jobId);
    await until(() => first.of(jobId).at(-1)?.job.status === 'running');
    const lastId = first.lastId;
    await first.close();

    // While no one listens.
    const other = await createJob('created meanwhile');
    for (let processed = 1; processed <= 20; processed++) await command('progress', jobId, { processed, total: 20 });
    const finished = await command('finish', jobId, { processed: 20, total: 20 });

    const resumed = await EventStream.open('', { 'Last-Event-ID': String(lastId) });
    try {
      await until(() => resumed.of(jobId).at(-1)?.job.status === 'finished' && resumed.of(other).length > 0);
      expect(resumed.of(jobId).at(-1)).toMatchObject({ position: finished.position, job: { processed: 20, progress: 100 } });
      expect(resumed.changes.every((change) => change.position > lastId)).toBe(true);
      expect(resumed.of(jobId).flatMap((change) => change.types)).toContain('Finished');
    } finally {
      await resumed.close();
    }
  });

  it("coalesces a busy job's changes, and its last state always arrives", async () => {
    const jobId = await createJob('busy');
    const stream = await EventStream.open(`?jobId=${jobId}`);
    try {
      await command('start', jobId);
      const sends = Array.from({ length: 150 }, (_, i) => command('progress', jobId, { processed: i + 1, total: 150 }));
      const replies = await Promise.all(sends);
      const last = Math.max(...replies.map((reply) => reply.position));
      await until(() => stream.of(jobId).at(-1)?.position === last);
      expect(stream.of(jobId).at(-1)!.job).toMatchObject({ processed: 150, version: 152 });
      expect(stream.changes.length).toBeLessThan(150);
      const ids = stream.changes.map((change) => change.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    } finally {
      await stream.close();
    }
  });

  it('?jobId= narrows the stream to one job; ?fromPosition= replays from a position', async () => {
    const watched = await createJob('watched');
    const stream = await EventStream.open(`?jobId=${watched}&fromPosition=0`);
    try {
      const other = await createJob('not watched');
      await command('start', other);
      const started = await command('start', watched);
      await until(() => stream.changes.at(-1)?.position === started.position);
      expect(new Set(stream.changes.map((change) => change.jobId))).toEqual(new Set([watched]));
      expect(stream.changes.flatMap((change) => change.types)).toEqual(['Created', 'Started']);
    } finally {
      await stream.close();
    }
  });

  it('takes the read right, and refuses a bad position before opening anything', async () => {
    await until(async () => (await consumerCount()) === baseline);
    const refused = await fetch(new URL('/api/v1/events', api.url));
    expect(refused.status).toBe(401);
    const bad = await fetch(new URL('/api/v1/events?fromPosition=-1', api.url), { headers: { authorization: `Bearer ${adminToken}` } });
    expect(bad.status).toBe(400);
    expect(await consumerCount()).toBe(baseline);
    const reader = await EventStream.open('', {}, readerToken);
    await reader.close();
  });
});
