import 'reflect-metadata';
import { EventStoreModule } from '#event-store';
import { runJobsService } from '#nats-transport';
import { CommandServiceModule } from '../../command-service/src/command-service.module.js';
import { QueryServiceModule } from '../../query-service/src/query-service.module.js';

// What `npm start` runs: the write side and the read side in one process.
await runJobsService('job service', (config, connection) => [
  EventStoreModule.forRoot({ connection, stream: config.stream, subjectPrefix: config.subjectPrefix, replicas: config.replicas }),
  CommandServiceModule.forRoot(),
  QueryServiceModule.forRoot(connection),
]);
