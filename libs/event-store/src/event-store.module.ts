import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { EVENT_STORE, type EventStore } from './event-store.port.js';
import { JetStreamEventStore, type JetStreamEventStoreOptions } from './jetstream-event-store.js';

export interface EventStoreModuleOptions extends Partial<JetStreamEventStoreOptions> {
  /** The process's NATS connection; its owner closes it. */
  connection: NatsConnection;
}

class EventStoreShutdown implements OnApplicationShutdown {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/** Provides EVENT_STORE: the JetStream adapter, on the stream it creates or updates at start. */
@Module({})
export class EventStoreModule {
  static forRoot({ connection, ...options }: EventStoreModuleOptions): DynamicModule {
    return {
      module: EventStoreModule,
      global: true,
      providers: [{ provide: EVENT_STORE, useFactory: () => JetStreamEventStore.open(connection, options) }, EventStoreShutdown],
      exports: [EVENT_STORE],
    };
  }
}
