import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '#event-store';
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
