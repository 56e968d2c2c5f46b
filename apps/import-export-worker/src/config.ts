import path from 'node:path';
import { z } from 'zod';
import { ConfigError, loadServiceConfig } from '#config';
import type { DatabaseSettings } from './database.js';

export const DEFAULT_FILES_BUCKET = 'JOBS_files';

const environmentSchema = z.object({
  DATABASE_URL: z.string().min(1).optional(),
  JOBS_FILES_DIR: z.string().min(1).optional(),
  JOBS_FILES_BUCKET: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'a bucket name is letters, digits, "-" or "_"')
    .default(DEFAULT_FILES_BUCKET),
});

export interface WorkerConfig {
  database: DatabaseSettings;
  /** The folder import files are read from and export files written to; nothing outside it. */
  filesDir: string;
  /** The Object Store bucket of files uploaded for imports and of exports written as objects. */
  filesBucket: string;
}

/** The worker's settings: DATABASE_URL (else SQLite at DATA_DIR/imports.sqlite), JOBS_FILES_DIR (DATA_DIR/files), JOBS_FILES_BUCKET. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const { dataDir } = loadServiceConfig(env);
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      `invalid configuration: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  }
  const e = parsed.data;
  return {
    database: { url: e.DATABASE_URL, sqliteFile: path.join(dataDir, 'imports.sqlite') },
    filesDir: path.resolve(e.JOBS_FILES_DIR ?? path.join(dataDir, 'files')),
    filesBucket: e.JOBS_FILES_BUCKET,
  };
}
