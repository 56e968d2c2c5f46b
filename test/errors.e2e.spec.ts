import type { Subscription } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '#event-store';
import { deleteStream } from '#testing/nats';
import { startPrivateNats, type PrivateNats } from '#testing/private-nats';
import { startTestService, type TestService } from '#testing/service';

/** Codes a client may retry: NATS or JetStream momentarily gone, or slow. */
const RETRYABLE = ['UNAVAILABLE', 'TIMEOUT'];

describe('while the NATS server restarts under load', () => {
  let nats: PrivateNats;
  let service: TestService;

  beforeAll(async () => {
    nats = await startPrivateNats();
    service = await startTestService('errors-restart', { natsUrl: nats.url, instances: 2 });
  });

  afterAll(async () => {
    await service?.close();
    await nats?.stop();
  });

  it('answers the commands it cuts off UNAVAILABLE or TIMEOUT, never INTERNAL, and a retry with the same commandId applies each once', async () => {
    const codes = new Map<string, number>();
    /** Sends with the same commandId until the command is answered by anything but a retryable error. */
    const send = async (name: string, body: Record<string, unknown>): Promise<any> => {
      for (let attempt = 0; attempt < 400; attempt++) {
        try {
          // Longer than the service waits for JetStream: its answer always comes.
          const reply = await service.nc.request(`${service.config.subjectPrefix}.cmd.${name}`, JSON.stringify(body), { timeout: 10_000 });
          const answer = reply.json<any>();
          if (answer.ok) return answer;
          codes.set(answer.error.code, (codes.get(answer.error.code) ?? 0) + 1);
          if (!RETRYABLE.includes(answer.error.code)) return answer;
        } catch {
          // No answer: the client itself is cut off from the server for now.
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`${name} never answered`);
    };
    let next = 0;
    let restarting = true;
    // Two instances: a job one of them did not handle last is read first, and reads are cut off too.
    const load = Promise.all(
      Array.from({ length: 48 }, async () => {
        while (restarting) {
          const jobId = `job-${next++}`;
          expect(await send('create', { jobId, label: jobId, kind: 'import', commandId: `${jobId}-create` })).toMatchObject({ ok: true });
          for (let n = 0; n < 6; n++) {
            const reply = await send('log', { jobId, level: 'info', message: `line ${n}`, commandId: `${jobId}-log-${n}` });
            expect(reply, `${jobId} log ${n}`).toMatchObject({ ok: true, version: n + 2 });
          }
        }
      }),
    );
    for (let restart = 0; restart < 3; restart++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await nats.restart(500);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    restarting = false;
    await load;
    // The restarts cut commands off in the middle: they were answered, and only with codes worth a retry.
    expect(codes.size).toBeGreaterThan(0);
    expect(Object.fromEntries(codes)).not.toHaveProperty('INTERNAL');
    for (const code of codes.keys()) expect(RETRYABLE).toContain(code);

    const store = await JetStreamEventStore.open(service.nc, {
      stream: service.config.stream,
      subjectPrefix: service.config.subjectPrefix,
    });
    for (let n = 0; n < next; n++) {
      const commits = await store.readJob(`job-${n}`);
      expect(commits.map((commit) => commit.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    }
  }, 120_000);
});

describe('with JetStream gone, or not answering, on a running NATS server', () => {
  let service: TestService;
  const holes: Subscription[] = [];

  beforeAll(async () => {
    service = await startTestService('errors-gone', { sides: ['commands', 'queries'] });
  });

  afterAll(async () => {
    for (const hole of holes) hole.unsubscribe();
    await service?.close();
  });

  /** Takes the stream away; with `silent`, something takes the reads and never answers them. */
  async function loseJetStream(silent: boolean): Promise<void> {
    await deleteStream(service.nc, service.config.stream);
    if (silent) {
      for (const subject of [`$JS.API.DIRECT.GET.${service.config.stream}`, `$JS.API.DIRECT.GET.${service.config.stream}.>`]) {
        holes.push(service.nc.subscribe(subject));
      }
      await service.nc.flush();
    }
  }

  async function bringJetStreamBack(): Promise<void> {
    for (const hole of holes.splice(0)) hole.unsubscribe();
    await JetStreamEventStore.open(service.nc, { stream: service.config.stream, subjectPrefix: service.config.subjectPrefix });
  }

  it('answers a command UNAVAILABLE when no stream takes its events, and the retry with the same commandId applies it', async () => {
    await loseJetStream(false);
    const create = { jobId: 'retried', label: 'Retried', kind: 'import', commandId: 'create-retried' };
    expect(await service.command('create', create)).toEqual({
      ok: false,
      error: {
        code: 'UNAVAILABLE',
        message:
          'the event store (NATS JetStream) is unavailable for a moment: nothing was stored; ' +
          'send the command again, with the same commandId if it has one',
      },
    });
    await bringJetStreamBack();
    expect(await service.command('create', create)).toMatchObject({ ok: true, jobId: 'retried', version: 1 });
  });

  it('answers TIMEOUT when JetStream does not answer a read of a job in time', async () => {
    await loseJetStream(true);
    const started = await service.command('start', { jobId: 'slow-read', commandId: 'start-slow-read' });
    expect(started).toEqual({
      ok: false,
      error: {
        code: 'TIMEOUT',
        message:
          'the event store (NATS JetStream) did not answer in time: nothing was stored; ' +
          'send the command again, with the same commandId if it has one',
      },
    });
    expect(await service.query('history', { jobId: 'slow-read' })).toEqual({
      ok: false,
      error: { code: 'TIMEOUT', message: 'the event store (NATS JetStream) did not answer in time: retry the request' },
    });
    await bringJetStreamBack();
  }, 30_000);
});
