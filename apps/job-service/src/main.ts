import 'reflect-metadata';
import { EventStoreModule } from '#event-store';
import { runJobsService } from '#service-bootstrap';
import { CommandServiceModule } from '#command-service';
import { QueryServiceModule } from '#query-service';
import { startHttpApi } from '#http-api';
import { startImportExportWorker } from '#import-export-worker';

// What `npm start` runs: the write side and the read side in one process, then the HTTP API with
// the console, and the import/export worker, each a NATS client of the service like any other.
await runJobsService(
  'job service',
  (config, connection) => [
    EventStoreModule.forRoot({ connection, stream: config.stream, subjectPrefix: config.subjectPrefix, replicas: config.replicas }),
    CommandServiceModule.forRoot(),
    QueryServiceModule.forRoot(connection),
  ],
  async (config, logger) => {
    const http = await startHttpApi({ config, logger });
    const worker = await startImportExportWorker().catch(async (error) => {
      await http.stop();
      throw error;
    });
    return [http, worker];
  },
);
