import { stopOnSignals } from '#executor';
import { startImportExportWorker } from './worker.js';

// The worker alone: `node dist/apps/import-export-worker/src/main.js`, configured like the services.
try {
  const worker = await startImportExportWorker();
  stopOnSignals(worker);
  console.error(`[import-export-worker] executor ${worker.executor.executorId} runs import and export jobs`);
  await worker.closed;
} catch (error) {
  console.error(`[import-export-worker] ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
