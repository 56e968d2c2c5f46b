import 'reflect-metadata';
import { EventStoreModule } from '#event-store';
import { runJobsService } from '#service-bootstrap';
import { CommandServiceModule } from '#command-service';
import { QueryServiceModule } from '#query-service';

// What `npm start` runs: the write side and the read side in one process.
await runJobsService('job service', (config, connection) => [
  EventStoreModule.forRoot({ connection, stream: config.stream, subjectPrefix: config.subjectPrefix, replicas: config.replicas }),
  CommandServiceModule.forRoot(),
  QueryServiceModule.forRoot(connection),
]);
