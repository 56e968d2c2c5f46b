import 'reflect-metadata';
import { EventStoreModule } from '#event-store';
import { runJobsService } from '#service-bootstrap';
import { CommandServiceModule } from './command-service.module.js';

// The write side alone: `node dist/apps/command-service/src/main.js`.
await runJobsService('command service', (config, connection) => [
  EventStoreModule.forRoot({ connection, stream: config.stream, subjectPrefix: config.subjectPrefix, replicas: config.replicas }),
  CommandServiceModule.forRoot(),
]);
