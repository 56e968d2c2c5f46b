import 'reflect-metadata';
import { EventStoreModule } from '#event-store';
import { runJobsService } from '#service-bootstrap';
import { QueryServiceModule } from './query-service.module.js';

// The read side alone: `node dist/apps/query-service/src/main.js`.
await runJobsService('query service', (config, connection) => [
  EventStoreModule.forRoot({ connection, stream: config.stream, subjectPrefix: config.subjectPrefix, replicas: config.replicas }),
  QueryServiceModule.forRoot(connection),
]);
