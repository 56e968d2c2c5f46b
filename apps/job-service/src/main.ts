import 'reflect-metadata';
import { EventStoreModule } from '#event-store';
import { runJobsService } from '#nats-transport';
import { CommandServiceModule } from '../../command-service/src/command-service.module.js';

// What `npm start` runs: every side of the service in one process.
await runJobsService('job service', (config, connection) => [
  EventStoreModule.forRoot({ connection, stream: config.stream, subjectPrefix: config.subjectPrefix, replicas: config.replicas }),
  CommandServiceModule.forRoot(),
]);
