import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobEventType, JobSummary } from '#contracts';
import type { JobChange } from '#client';
import { type LiveClient, LiveJobChanges } from './live-job-changes.js';
import type { LiveSubscriber } from './live-job-events.js';

const change = (jobId: string, position: number, type: JobEventType = 'ProgressReported'): JobChange => ({
  jobId,
  position,
  version: position,
  types: [type],
});

/** The process's feed of events from now, fed by hand. */
class Feed {
  readonly subscribers = new Set<LiveSubscriber>();
  async attach(subscriber: LiveSubscriber): Promise<void> {
    this.subscribers.add(subscriber);
  }
  detach(subscriber: LiveSubscriber): void {
    this.subscribers.delete(subscriber);
  }
  emit(...changes: JobChange[]): void {
    for (const subscriber of this.subscribers) for (const one of changes) subscriber.onChange(one);
  }
}

class Client implements LiveClient {
  readonly chunks: Buffer[] = [];
  ended = false;
  constructor(readonly jobId: string | undefined = undefined) {}
  write(chunk: Buffer): void {
    this.chunks.push(chunk);
  }
  end(): void {
    this.ended = true;
  }
  /** The messages received: their id and data. */
  get messages(): { id: number; jobId: string; position: number }[] {
    return Buffer.concat(this.chunks)
      .toString()
      .split('\n\n')
      .filter((text) => text.startsWith('id: '))
      .map((text) => {
        const [id, , data] = text.split('\n');
        return { id: Number(id.slice('id: '.length)), ...JSON.parse(data.slice('data: '.length)) };
      });
  }
}

/** `held`: the jobs whose summaries are read only once `release` is called. */
function setUp(held: string[] = []) {
  const feed = new Feed();
  const reads: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const changes = new LiveJobChanges(feed, {
    intervalMs: 250,
    retryMs: 1_000,
    keepAliveMs: 15_000,
    batchMs: 10,
    summaryAt: async (jobId, minPosition) => {
      reads.push(`${jobId}@${minPosition}`);
      if (held.includes(jobId)) await released;
      return { jobId, version: minPosition } as JobSummary;
    },
    onError: () => undefined,
  });
  return { feed, reads, changes, release };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('LiveJobChanges', () => {
  it('reads each summary once and writes the same bytes to every client; a stream of one job gets only its changes', async () => {
    const { feed, reads, changes } = setUp();
    const all = [new Client(), new Client()];
    const onlyB = new Client('b');
    for (const client of [...all, onlyB]) await changes.attach(client);
    feed.emit(change('a', 1), change('a', 2), change('b', 3));
    await vi.advanceTimersByTimeAsync(260);
    expect(reads).toEqual(['a@2', 'b@3']);
    expect(all[0].chunks).toHaveLength(1);
    expect(all[0].chunks[0]).toBe(all[1].chunks[0]);
    expect(all[0].messages.map(({ id, jobId, position }) => ({ id, jobId, position }))).toEqual([
      { id: 2, jobId: 'a', position: 2 },
      { id: 3, jobId: 'b', position: 3 },
    ]);
    expect(onlyB.messages.map(({ id, jobId, position }) => ({ id, jobId, position }))).toEqual([{ id: 3, jobId: 'b', position: 3 }]);
  });

  it("gives a stream of one job its job's position as id, whatever other job's change still waits", async () => {
    const { feed, changes, release } = setUp(['a']);
    const all = new Client();
    const onlyB = new Client('b');
    await changes.attach(all);
    await changes.attach(onlyB);
    feed.emit(change('a', 1), change('b', 2));
    await vi.advanceTimersByTimeAsync(260);
    // a's change at 1 is still being read: the stream of every job resumes from 0, the stream of b from 2.
    expect(all.messages).toMatchObject([{ jobId: 'b', id: 0 }]);
    expect(onlyB.messages).toMatchObject([{ jobId: 'b', id: 2 }]);
    release();
    await vi.advanceTimersByTimeAsync(10);
    expect(all.messages.at(-1)).toMatchObject({ jobId: 'a', id: 2 });
  });

  it('sends a client that attaches later the messages from then on', async () => {
    const { feed, changes } = setUp();
    const early = new Client();
    await changes.attach(early);
    feed.emit(change('a', 1));
    await vi.advanceTimersByTimeAsync(260);
    const late = new Client();
    await changes.attach(late);
    feed.emit(change('a', 2));
    await vi.advanceTimersByTimeAsync(260);
    expect(early.messages.map((message) => message.position)).toEqual([1, 2]);
    expect(late.messages.map((message) => message.position)).toEqual([2]);
  });

  it('reads nothing for jobs no client watches, and leaves the feed when the last client goes', async () => {
    const { feed, reads, changes } = setUp();
    const onlyB = new Client('b');
    await changes.attach(onlyB);
    feed.emit(change('a', 1), change('b', 2));
    await vi.advanceTimersByTimeAsync(250);
    expect(reads).toEqual(['b@2']);
    changes.detach(onlyB);
    expect(feed.subscribers.size).toBe(0);
  });

  it('writes the messages that come within a batch together, once per client', async () => {
    const { feed, changes } = setUp();
    const client = new Client();
    await changes.attach(client);
    feed.emit(change('a', 1), change('b', 2), change('c', 3));
    await vi.advanceTimersByTimeAsync(260);
    expect(client.chunks).toHaveLength(1);
    expect(client.messages.map((message) => message.jobId)).toEqual(['a', 'b', 'c']);
  });

  it('ends every client when the feed fails, and sends keep-alive comments meanwhile', async () => {
    const { feed, changes } = setUp();
    const clients = [new Client(), new Client('a')];
    for (const client of clients) await changes.attach(client);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(clients.map((client) => client.chunks.map(String))).toEqual([[': keep-alive\n\n'], [': keep-alive\n\n']]);
    for (const subscriber of feed.subscribers) subscriber.onEnd();
    expect(clients.map((client) => client.ended)).toEqual([true, true]);
  });
});
