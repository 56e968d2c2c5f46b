import { MsgHdrsImpl, NoRespondersError, createInbox, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { JetStreamApiError, type PubAck } from '@nats-io/jetstream';
import { AppendTimeout } from './event-store.port.js';

interface Waiting {
  subject: string;
  resolve(ack: PubAck): void;
  reject(error: Error): void;
  deadline: number;
}

/**
 * A commit larger than the NATS server takes in one message (its max_payload, headers included):
 * nothing was sent. JSON written again can be larger than the body a command came in (`1E20` comes
 * back as `100000000000000000000`), so a body within JOBS_MAX_PAYLOAD_BYTES can still make one.
 */
export class CommitTooLarge extends Error {
  override name = 'CommitTooLarge';

  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`the commit is ${size} bytes, more than the NATS server's max_payload of ${limit}`);
  }
}

/**
 * Publishes to JetStream and waits for its acknowledgement on one shared reply subscription.
 * `JetStreamClient.publish` does the same over `nc.request`, which builds an Error with a stack
 * trace for every request it completes, on the path of every append.
 */
export class JetStreamPublisher {
  private readonly inbox = createInbox();
  private readonly waiting = new Map<string, Waiting>();
  private readonly subscription: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    this.subscription = nc.subscribe(`${this.inbox}.*`, {
      callback: (error, message) => {
        if (error) return;
        const token = message.subject.slice(this.inbox.length + 1);
        const waiting = this.waiting.get(token);
        if (!waiting) return; // Already timed out.
        this.waiting.delete(token);
        // No stream takes the subject: JetStream is down or restarting, and nothing was stored.
        if (message.data.length === 0 && message.headers?.code === 503) return waiting.reject(new NoRespondersError(waiting.subject));
        const reply = message.json<PubAck & { error?: ConstructorParameters<typeof JetStreamApiError>[0] }>();
        if (reply.error) return waiting.reject(new JetStreamApiError(reply.error));
        reply.duplicate ??= false;
        waiting.resolve(reply);
      },
    });
    // One timer for every append in flight rather than one each.
    this.sweeper = setInterval(() => this.expire(), Math.max(50, Math.min(1_000, timeoutMs / 4)));
    this.sweeper.unref();
  }

  /** Rejects with CommitTooLarge, before sending anything, when the server would refuse the message. */
  publish(subject: string, data: string, headers: MsgHdrs): Promise<PubAck> {
    // As bytes from Node's buffer pool: given a string, nats.js would encode it into a new buffer each time.
    const body = Buffer.from(data);
    // The server counts the headers in its max_payload too (nats.js makes every header set a MsgHdrsImpl).
    const size = body.length + (headers instanceof MsgHdrsImpl ? headers.encode().length : 0);
    const limit = this.nc.info?.max_payload ?? Infinity;
    if (size > limit) return Promise.reject(new CommitTooLarge(size, limit));
    const token = (this.next++).toString(36);
    return new Promise<PubAck>((resolve, reject) => {
      this.waiting.set(token, { subject, resolve, reject, deadline: Date.now() + this.timeoutMs });
      try {
        this.nc.publish(subject, body, { reply: `${this.inbox}.${token}`, headers });
      } catch (error) {
        this.waiting.delete(token);
        reject(error as Error);
      }
    });
  }

  private expire(): void {
    const now = Date.now();
    for (const [token, waiting] of this.waiting) {
      if (waiting.deadline > now) continue;
      this.waiting.delete(token);
      waiting.reject(new AppendTimeout(`JetStream did not acknowledge the append within ${this.timeoutMs} ms`));
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.subscription.unsubscribe();
    for (const waiting of this.waiting.values()) waiting.reject(new Error('the event store was closed'));
    this.waiting.clear();
  }
}
