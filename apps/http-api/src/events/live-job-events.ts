import { Logger } from '@nestjs/common';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { jobSubjects } from '#contracts';
import { followChanges, type JobChange } from '#client';

export interface LiveSubscriber {
  onChange(change: JobChange): void;
  /** The shared feed failed: the subscriber's stream ends, and its client resumes from its last id. */
  onEnd(): void;
}

/**
 * One feed of every job's events from now, shared by the live streams of the process that start
 * from now: one consumer for them all, however many clients watch. It runs while one listens.
 */
export class LiveJobEvents {
  private readonly logger = new Logger('HttpApi');
  private readonly subscribers = new Set<LiveSubscriber>();
  private running: AbortController | null = null;
  private starting: Promise<void> | null = null;

  constructor(
    private readonly nc: NatsConnection,
    private readonly stream: string,
    private readonly subjectPrefix: string,
  ) {}

  /** Sends `subscriber` every event appended from now on, until `detach`. */
  async attach(subscriber: LiveSubscriber): Promise<void> {
    if (this.running === null) {
      this.starting ??= this.start().finally(() => {
        this.starting = null;
      });
      await this.starting;
    }
    this.subscribers.add(subscriber);
  }

  detach(subscriber: LiveSubscriber): void {
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0 && this.starting === null) this.stop();
  }

  stop(): void {
    this.running?.abort();
    this.running = null;
  }

  private async start(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    const head = (await jsm.streams.info(this.stream)).state.last_seq;
    const abort = new AbortController();
    this.running = abort;
    void this.follow(abort, head);
  }

  private async follow(abort: AbortController, head: number): Promise<void> {
    const subjects = jobSubjects(this.subjectPrefix);
    try {
      const feed = followChanges(jetstream(this.nc), {
        stream: this.stream,
        eventsSubjectPrefix: subjects.jobEvents(''),
        filter: subjects.allEvents,
        fromPosition: head,
        signal: abort.signal,
      });
      for await (const change of feed) for (const subscriber of this.subscribers) subscriber.onChange(change);
    } catch (error) {
      if (!abort.signal.aborted)
        this.logger.warn(`the live feed of job changes stopped: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      // Unless stopped on purpose (a new feed may run by now), its subscribers can no longer trust it.
      if (this.running === abort) {
        this.running = null;
        for (const subscriber of this.subscribers) subscriber.onEnd();
        this.subscribers.clear();
      }
    }
  }
}
