import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CommandBody, CommandName } from '#contracts';
import { InMemoryEventStore } from '#event-store';
import { ExecuteJobCommand, ExecuteJobCommandHandler } from './execute-job-command.js';
import { JobRepository } from './job-repository.js';

/** A piece of work that finishes when the test says so, and records when it started. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return {
    work: async () => {
      log.push(`${name} started`);
      await opened;
      log.push(`${name} done`);
      return name;
    },
    open,
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('JobRepository.serialize', () => {
  let store: InMemoryEventStore;
  let jobs: JobRepository;
  beforeEach(() => {
    store = new InMemoryEventStore();
    jobs = new JobRepository(store);
  });
  afterEach(() => store.close());

  it('runs the commands of one job one at a time, in the order they came', async () => {
    const log: string[] = [];
    const [a, b, c] = [gate(log, 'a'), gate(log, 'b'), gate(log, 'c')];
    const results = [jobs.serialize('job-1', a.work), jobs.serialize('job-1', b.work), jobs.serialize('job-1', c.work)];
    await turn();
    expect(log).toEqual(['a started']);
    c.open();
    b.open();
    await turn();
    expect(log).toEqual(['a started']);
    a.open();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a started', 'a done', 'b started', 'b done', 'c started', 'c done']);
  });

  it('runs the commands of different jobs side by side', async () => {
    const log: string[] = [];
    const [a, b] = [gate(log, 'a'), gate(log, 'b')];
    const results = [jobs.serialize('job-1', a.work), jobs.serialize('job-2', b.work)];
    await turn();
    expect(log).toEqual(['a started', 'b started']);
    b.open();
    a.open();
    expect(await Promise.all(results)).toEqual(['a', 'b']);
  });

  it('starts the next command of a job after one that failed, and passes the failure to its sender only', async () => {
    const failing = jobs.serialize('job-1', async () => {
      throw new Error('append failed');
    });
    const next = jobs.serialize('job-1', async () => 'next');
    await expect(failing).rejects.toThrow('append failed');
    await expect(next).resolves.toBe('next');
  });

  it('lets an idle job start its next command at once', async () => {
    await jobs.serialize('job-1', async () => 'first');
    await turn();
    const log: string[] = [];
    const second = jobs.serialize('job-1', async () => {
      log.push('second started');
      return 'second';
    });
    // Started synchronously: no turn of the event loop was needed.
    expect(log).toEqual(['second started']);
    await expect(second).resolves.toBe('second');
  });
});

describe('JobRepository: commits that fail their check', () => {
  let store: InMemoryEventStore;
  let jobs: JobRepository;
  let send: (name: CommandName, body: Record<string, unknown>) => Promise<unknown>;
  beforeEach(() => {
    store = new InMemoryEventStore();
    jobs = new JobRepository(store);
    const handler = new ExecuteJobCommandHandler(jobs, store, 8);
    send = (name, body) => handler.execute(new ExecuteJobCommand(name, body as CommandBody));
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await store.close();
  });

  /** A Finished event as the service would store it on `jobId`, stored by no command. */
  const forgedFinish = (jobId: string, version: number) =>
    JSON.stringify([
      {
        eventId: `${jobId}:${version}`,
        type: 'Finished',
        schemaVersion: 1,
        jobId,
        version,
        at: new Date().toISOString(),
        commandId: 'forged',
        correlationId: 'forged',
        causationId: 'forged',
        actor: 'mallory',
        data: {},
      },
    ]);

  it('skips them: the job goes on from its last valid state, after its last commit', async () => {
    await send('create', { jobId: 'job-1', label: 'Contacts', kind: 'import' });
    await send('start', { jobId: 'job-1' });
    const garbage = await store.appendRaw('job-1', 'this is not json', null);
    const elsewhere = await store.appendRaw('job-1', forgedFinish('job-2', 3), 3);
    const loaded = await new JobRepository(store).load('job-1');
    expect(loaded.state).toMatchObject({ status: 'running', version: 2 });
    expect(loaded.position).toBe(elsewhere.position);
    expect(garbage.position).toBeLessThan(elsewhere.position);
  });

  it('answers commands on such a job, appended after the last commit, and logs each quarantined commit once', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await send('create', { jobId: 'job-1', label: 'Contacts', kind: 'import' });
    await send('start', { jobId: 'job-1' });
    // Another client's messages come after the job this instance caches.
    const garbage = await store.appendRaw('job-1', 'this is not json', null);
    const jump = await store.appendRaw('job-1', forgedFinish('job-1', 50), 50);
    expect(await send('progress', { jobId: 'job-1', processed: 5 })).toMatchObject({ ok: true, version: 3, position: jump.position + 1 });
    expect(await send('finish', { jobId: 'job-1' })).toMatchObject({ ok: true, version: 4, status: 'finished' });
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      `quarantined the commit at position ${garbage.position} on job job-1's subject, skipped: its body is not JSON`,
      `quarantined the commit at position ${jump.position} on job job-1's subject, skipped: event 1 of 1 has version 50, but the job's next version is 3`,
    ]);
    // Read again from the store, the job logs nothing new.
    jobs.forget('job-1');
    expect(await send('log', { jobId: 'job-1', level: 'info', message: 'done' })).toMatchObject({ ok: true, version: 5 });
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it('lets a job be created on a subject that held only garbage', async () => {
    const garbage = await store.appendRaw('job-1', '{"not": "an array"}', 1);
    expect(await send('create', { jobId: 'job-1', label: 'Contacts', kind: 'import' })).toMatchObject({
      ok: true,
      version: 1,
      position: garbage.position + 1,
      status: 'editing',
    });
  });
});
