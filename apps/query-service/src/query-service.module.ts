import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { JobQueriesController } from './job-queries.controller.js';
import { NATS_CONNECTION } from './query-service.tokens.js';
import { ReadModelProjector } from './read-model-projector.js';
import { RejectsExporter } from './rejects-exporter.js';
import { RunJobQueryHandler } from './run-job-query.js';

/** The read side: projections into SQLite and `<prefix>.query.*`. Needs EVENT_STORE from EventStoreModule and the root's CqrsModule. */
@Module({})
export class QueryServiceModule {
  static forRoot(connection: NatsConnection): DynamicModule {
    return {
      module: QueryServiceModule,
      controllers: [JobQueriesController],
      providers: [ReadModelProjector, RejectsExporter, RunJobQueryHandler, { provide: NATS_CONNECTION, useValue: connection }],
    };
  }
}
