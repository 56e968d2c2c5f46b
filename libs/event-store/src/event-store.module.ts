import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { connect } from '@nats-io/transport-node';
import type { ConnectionOptions, NatsConnection } from '@nats-io/nats-core';
import { EVENT_STORE, type EventStore } from './event-store.port.js';
import { JetStreamEventStore, type JetStreamEventStoreOptions } from './jetstream-event-store.js';

export interface EventStoreModuleOptions extends Partial<JetStreamEventStoreOptions> {
  connection: ConnectionOptions;
}

const EVENT_STORE_CONNECTION = Symbol('EVENT_STORE_CONNECTION');

/** Closes the event store and its connection when the application shuts down. */
class EventStoreShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(EVENT_STORE_CONNECTION) private readonly connection: NatsConnection,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
    await this.connection.drain().catch(() => this.connection.close());
  }
}

/** Provides EVENT_STORE: the JetStream adapter on its own NATS connection. */
@Module({})
export class EventStoreModule {
  static forRoot({ connection, ...options }: EventStoreModuleOptions): DynamicModule {
    return {
      module: EventStoreModule,
      global: true,
      providers: [
        { provide: EVENT_STORE_CONNECTION, useFactory: () => connect({ ...connection, name: `${connection.name ?? 'job-tracking'}-event-store` }) },
        {
          provide: EVENT_STORE,
          inject: [EVENT_STORE_CONNECTION],
          useFactory: (nc: NatsConnection) => JetStreamEventStore.open(nc, options),
        },
        EventStoreShutdown,
      ],
      exports: [EVENT_STORE, EVENT_STORE_CONNECTION],
    };
  }
}

export { EVENT_STORE_CONNECTION };
