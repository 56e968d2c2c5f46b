import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { connectionOptionsFromEnv, natsConnectionOptions } from '#client';
import { type Executor, type ExecutorOptions, executorSettingsFromEnv, startExecutor } from '#executor';
import { loadWorkerConfig, type WorkerConfig } from './config.js';
import { exportHandler } from './export-handler.js';
import { JobFiles } from './files.js';
import { importHandler, type WorkerSettings } from './import-handler.js';

export interface ImportExportWorkerOptions {
  /** Where the settings come from: the process's environment by default. */
  env?: NodeJS.ProcessEnv;
  /** A NATS connection for the Object Store (a process that has one already); else the worker opens one and closes it on stop. */
  connection?: NatsConnection;
  /** Executor options over those of the environment (executorId, concurrency, leaseMs, nats, ...). */
  executor?: Partial<Omit<ExecutorOptions, 'handlers'>>;
}

export interface ImportExportWorker {
  readonly config: WorkerConfig;
  readonly executor: Executor;
  /** Stops the executor (its running jobs move to "Server shutdown in progress") and closes what the worker opened. */
  stop(reason?: string): Promise<void>;
  readonly closed: Promise<void>;
}

/** The import and export handlers, for an executor of one's own. */
export function importExportHandlers(settings: WorkerSettings): ExecutorOptions['handlers'] {
  return { import: importHandler(settings), export: exportHandler(settings) };
}

/** Starts the reference worker: an executor of import and export jobs, alone or in the job service's process. */
export async function startImportExportWorker(options: ImportExportWorkerOptions = {}): Promise<ImportExportWorker> {
  const env = options.env ?? process.env;
  const config = loadWorkerConfig(env);
  const executorSettings = { ...executorSettingsFromEnv(env), ...options.executor };
  const connection =
    options.connection ?? (await connect(natsConnectionOptions({ ...connectionOptionsFromEnv(env), ...executorSettings.nats })));
  const files = new JobFiles(config.filesDir, config.filesBucket, connection);
  await files.ensureBucket().catch((error: unknown) => {
    console.warn(
      `[import-export-worker] cannot make the Object Store bucket ${config.filesBucket} (${error instanceof Error ? error.message : String(error)}): jobs that read or write objects fail until it can be made`,
    );
  });
  let executor: Executor;
  try {
    executor = await startExecutor({ ...executorSettings, handlers: importExportHandlers({ database: config.database, files }) });
  } catch (error) {
    if (!options.connection) await connection.close();
    throw error;
  }
  const closed = executor.closed.then(async () => {
    if (!options.connection) await connection.close();
  });
  return {
    config,
    executor,
    stop: async (reason) => {
      await executor.stop(reason);
      await closed;
    },
    closed,
  };
}
