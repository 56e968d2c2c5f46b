import { Server, NatsContext, type CustomTransportStrategy } from '@nestjs/microservices';
import { connect } from '@nats-io/transport-node';
import type { ConnectionOptions, Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { lastValueFrom } from 'rxjs';
import { errorReply, isJobError, type ErrorReply } from '#contracts';

export interface JobsNatsServerOptions {
  connection: ConnectionOptions;
  /** Subject prefix: a handler for pattern `cmd.*` answers `<prefix>.cmd.*`. */
  subjectPrefix: string;
  /** Largest request body accepted, in bytes; larger ones get PAYLOAD_TOO_LARGE. */
  maxPayloadBytes: number;
}

const encoder = new TextEncoder();

/**
 * NATS transport for the jobs API. Unlike Nest's stock NATS server it answers plain JSON, so a
 * request from any NATS client and a `ClientProxy.send` get the same reply; it subscribes to
 * wildcard patterns as one queue group per side, so unknown subjects under `<prefix>.cmd.` get a
 * typed error; and it drains in-flight requests on close.
 */
export class JobsNatsServer extends Server implements CustomTransportStrategy {
  private connection: NatsConnection | null = null;
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: JobsNatsServerOptions) {
    super();
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      this.connection = await connect(this.options.connection);
      for (const pattern of this.messageHandlers.keys()) this.subscribe(this.connection, pattern);
      callback();
    } catch (error) {
      callback(error);
    }
  }

  private subscribe(connection: NatsConnection, pattern: string): void {
    const subject = `${this.options.subjectPrefix}.${pattern}`;
    // One queue group per API side ("jobs.cmd", "jobs.query"): instances share the load.
    const queue = `${this.options.subjectPrefix}.${pattern.split('.')[0]}`;
    const subscription = connection.subscribe(subject, {
      queue,
      callback: (error, message) => {
        if (error) return this.logger.error(error);
        const done = this.answer(pattern, message).finally(() => this.inFlight.delete(done));
        this.inFlight.add(done);
      },
    });
    this.subscriptions.push(subscription);
  }

  private async answer(pattern: string, message: Msg): Promise<void> {
    if (!message.reply) return; // Nobody is waiting: the API has no fire-and-forget messages.
    let reply: unknown;
    try {
      reply = await this.handle(pattern, message);
    } catch (error) {
      reply = this.unexpected(error);
    }
    try {
      message.respond(encoder.encode(JSON.stringify(reply)));
    } catch (error) {
      this.logger.error(`could not answer ${message.subject}: ${String(error)}`);
    }
  }

  private async handle(pattern: string, message: Msg): Promise<unknown> {
    const size = message.data.length;
    if (size > this.options.maxPayloadBytes) {
      return errorReply({
        code: 'PAYLOAD_TOO_LARGE',
        message: `the request body is ${size} bytes, more than the limit of ${this.options.maxPayloadBytes}`,
        size,
        limit: this.options.maxPayloadBytes,
      });
    }
    let body: unknown;
    try {
      body = size === 0 ? {} : JSON.parse(message.string());
    } catch {
      return errorReply({ code: 'VALIDATION_FAILED', message: 'the request body is not valid JSON' });
    }
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) return errorReply({ code: 'INTERNAL', message: `no handler for ${pattern}` });
    const context = new NatsContext([message.subject, message.headers]);
    const result = await handler(unwrapNestEnvelope(body), context);
    return lastValueFrom(this.transformToObservable(result));
  }

  private unexpected(error: unknown): ErrorReply {
    // Nest's RPC exception filter hands errors over as plain objects: a JobError passes as is.
    if (isJobError(error)) return errorReply(error);
    this.logger.error(error instanceof Error ? (error.stack ?? error.message) : JSON.stringify(error));
    return errorReply({ code: 'INTERNAL', message: 'the service failed to handle the request; it was logged' });
  }

  /** Stops taking requests, lets those in flight finish, then closes the connection. */
  async close(): Promise<void> {
    const connection = this.connection;
    if (!connection) return;
    this.connection = null;
    await Promise.all(this.subscriptions.splice(0).map((subscription) => subscription.drain().catch(() => undefined)));
    await Promise.allSettled([...this.inFlight]);
    await connection.drain().catch(() => connection.close());
  }

  on(): never {
    throw new Error('JobsNatsServer has no status events');
  }

  unwrap<T>(): T {
    if (!this.connection) throw new Error('the NATS server is not listening');
    return this.connection as T;
  }
}

/** A `ClientProxy.send` wraps the body as `{pattern, data, id}`; any other client sends it bare. */
function unwrapNestEnvelope(body: unknown): unknown {
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const keys = Object.keys(body);
    if (keys.length === 3 && 'pattern' in body && 'data' in body && 'id' in body) return (body as { data: unknown }).data;
  }
  return body;
}
