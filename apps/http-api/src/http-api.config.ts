import path from 'node:path';
import { z } from 'zod';
import { ConfigError, type ServiceConfig } from '#config';

/** The HTTP side's own environment variables, beside the service's (README "Configuration"). */
const httpEnvironmentSchema = z.object({
  // Loopback unless told otherwise: the console is not exposed to the network by default.
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  JOBS_USERS_FILE: z.string().min(1).optional(),
  JOBS_CONSOLE_DIR: z.string().min(1).optional(),
});

export interface HttpApiConfig {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** The users and their hashed tokens. */
  usersFile: string;
  /** The console's built files (Vite's output). */
  consoleDir: string;
}

export function loadHttpApiConfig(service: Pick<ServiceConfig, 'dataDir'>, env: NodeJS.ProcessEnv = process.env): HttpApiConfig {
  const parsed = httpEnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  return {
    host: e.HTTP_HOST,
    port: e.HTTP_PORT,
    usersFile: path.resolve(e.JOBS_USERS_FILE ?? path.join(service.dataDir, 'users.json')),
    consoleDir: path.resolve(e.JOBS_CONSOLE_DIR ?? 'dist/console'),
  };
}
