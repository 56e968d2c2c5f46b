import { Server, NatsContext, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { isObservable, lastValueFrom } from 'rxjs';
import { COMMAND_TOO_LARGE_ADVICE, errorReply, isCommandName, isJobError, type ErrorReply } from '#contracts';
import { natsFailure } from './nats-failure.js';
import { readRequestBody } from './request-body.js';

export interface JobsNatsServerOptions {
  /** The process's connection, shared with the event store; whoever opened it closes it. */
  connection: NatsConnection;
  /** Subject prefix: a handler for pattern `cmd.*` answers `<prefix>.cmd.*`. */
  subjectPrefix: string;
  /** Largest request body accepted, in bytes; larger ones get PAYLOAD_TOO_LARGE. */
  maxPayloadBytes: number;
}

/**
 * How much larger than its command's body a commit may be: each event repeats the command's ids,
 * actor and job, and the message carries headers. A body of JOBS_MAX_PAYLOAD_BYTES must leave this
 * much room under the server's max_payload, or an accepted command could make an event the server
 * refuses.
 */
export const COMMIT_METADATA_ROOM_BYTES = 8 * 1024;

/**
 * NATS transport for the jobs API. Unlike Nest's stock NATS server it answers plain JSON, so a
 * request from any NATS client and a `ClientProxy.send` get the same reply; it subscribes to
 * wildcard patterns as one queue group per side, so unknown subjects under `<prefix>.cmd.` get a
 * typed error; and it drains in-flight requests on close. It shares the process's one NATS
 * connection with the event store, so a command's append and its reply leave in one socket write.
 */
export class JobsNatsServer extends Server implements CustomTransportStrategy {
  private listening = false;
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  /** Throws when the server's max_payload cannot hold an event made of a body of `maxPayloadBytes`. */
  constructor(private readonly options: JobsNatsServerOptions) {
    super();
    const { maxPayloadBytes, connection } = options;
    const serverLimit = connection.info?.max_payload;
    if (serverLimit !== undefined && maxPayloadBytes + COMMIT_METADATA_ROOM_BYTES > serverLimit) {
      // Refused rather than lowered: clients were told JOBS_MAX_PAYLOAD_BYTES, and an operator sees why at once.
      throw new Error(
        `JOBS_MAX_PAYLOAD_BYTES is ${maxPayloadBytes}, but the NATS server's max_payload is ${serverLimit}, and an event needs up to ` +
          `${COMMIT_METADATA_ROOM_BYTES} bytes more than its command's body: set JOBS_MAX_PAYLOAD_BYTES to at most ` +
          `${serverLimit - COMMIT_METADATA_ROOM_BYTES}, or raise max_payload in the NATS server's configuration`,
      );
    }
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      for (const pattern of this.messageHandlers.keys()) this.subscribe(this.options.connection, pattern);
      // A round trip to the server: once it returns, the server routes requests here, so a client
      // told "ready" never gets "no responders".
      await this.options.connection.flush();
      this.listening = true;
      callback();
    } catch (error) {
      callback(error);
    }
  }

  private subscribe(connection: NatsConnection, pattern: string): void {
    const subject = `${this.options.subjectPrefix}.${pattern}`;
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) throw new Error(`no handler for ${pattern}`);
    // One queue group per API side ("jobs.cmd", "jobs.query"): instances share the load. A
    // broadcast pattern reaches every instance (each rebuilds its own read models, say).
    const queue = handler.extras?.broadcast ? undefined : `${this.options.subjectPrefix}.${pattern.split('.')[0]}`;
    const subscription = connection.subscribe(subject, {
      queue,
      callback: (error, message) => {
        if (error) return this.logger.error(error);
        const done = this.answer(handler, message);
        this.inFlight.add(done);
        // `answer` never rejects.
        void done.then(() => this.inFlight.delete(done));
      },
    });
    this.subscriptions.push(subscription);
  }

  private async answer(handler: MessageHandler, message: Msg): Promise<void> {
    if (!message.reply) return; // Nobody is waiting: the API has no fire-and-forget messages.
    let reply: unknown;
    try {
      reply = await this.handle(handler, message);
      // Nest's RPC proxy resolves to the controller's value; only a controller returning an
      // Observable needs rxjs to reach its last value.
      if (isObservable(reply)) reply = await lastValueFrom(reply);
    } catch (error) {
      reply = this.unexpected(error, message.subject);
    }
    try {
      // Buffer.from takes a small reply from Node's shared pool; TextEncoder allocates a new buffer each time.
      let data = Buffer.from(JSON.stringify(reply));
      const limit = this.options.connection.info?.max_payload ?? Infinity;
      // The server would refuse it, and the client would wait for its own timeout.
      if (data.length > limit) data = Buffer.from(JSON.stringify(replyTooLarge(data.length, limit)));
      message.respond(data);
    } catch (error) {
      this.logger.error(`could not answer ${message.subject}: ${String(error)}`);
    }
  }

  /** The reply, or the promise of Nest's handler for it. */
  private handle(handler: MessageHandler, message: Msg): unknown {
    const size = message.data.length;
    if (size > this.options.maxPayloadBytes) return this.tooLarge(message.subject, size);
    const read = readRequestBody(message.data);
    if (!read.ok) return read;
    return handler(read.body, new NatsContext([message.subject, message.headers]));
  }

  private tooLarge(subject: string, size: number): ErrorReply {
    const limit = this.options.maxPayloadBytes;
    const commands = `${this.options.subjectPrefix}.cmd.`;
    const command = subject.startsWith(commands) ? subject.slice(commands.length) : '';
    const advice = (isCommandName(command) && COMMAND_TOO_LARGE_ADVICE[command]) || 'send a smaller body';
    return errorReply({
      code: 'PAYLOAD_TOO_LARGE',
      message: `the request body is ${size} bytes, more than the limit of ${limit}: ${advice}`,
      size,
      limit,
    });
  }

  /** The reply to an error a handler threw: what a client may do about it, and the log line it is worth. */
  private unexpected(error: unknown, subject: string): ErrorReply {
    // Nest's RPC exception filter hands errors over as plain objects: a JobError passes as is.
    if (isJobError(error)) return errorReply(error);
    const failure = natsFailure(error);
    if (failure) {
      // Not the service's fault: one line, no stack, however many requests it meets.
      this.logger.warn(`${failure} on ${subject}: ${causes(error)}`);
      const what = failure === 'UNAVAILABLE' ? 'is unavailable for a moment' : 'did not answer in time';
      const advice = subject.startsWith(`${this.options.subjectPrefix}.cmd.`)
        ? 'nothing was stored; send the command again, with the same commandId if it has one'
        : 'retry the request';
      return errorReply({ code: failure, message: `the event store (NATS JetStream) ${what}: ${advice}` });
    }
    this.logger.error(error instanceof Error ? (error.stack ?? error.message) : JSON.stringify(error));
    return errorReply({ code: 'INTERNAL', message: 'the service failed to handle the request; it was logged' });
  }

  /** Stops taking requests and lets those in flight finish. */
  async close(): Promise<void> {
    this.listening = false;
    await Promise.all(this.subscriptions.splice(0).map((subscription) => subscription.drain().catch(() => undefined)));
    await Promise.allSettled([...this.inFlight]);
  }

  on(): never {
    throw new Error('JobsNatsServer has no status events');
  }

  unwrap<T>(): T {
    if (!this.listening) throw new Error('the NATS server is not listening');
    return this.options.connection as T;
  }
}

function replyTooLarge(size: number, limit: number): ErrorReply {
  return errorReply({
    code: 'PAYLOAD_TOO_LARGE',
    message:
      `the reply is ${size} bytes, more than the NATS server's max_payload of ${limit}: ` +
      'ask for fewer items with a smaller limit, and page with the cursor of each reply',
    size,
    limit,
  });
}

/** An error's message and those of its causes: "jetstream is not enabled: no responders: '$JS.API…'". */
function causes(error: unknown): string {
  const messages: string[] = [];
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) messages.push(cause.message);
  return messages.join(': ') || String(error);
}
