import { userInfo } from 'node:os';
import { connectionOptionsFromEnv, DEFAULT_NATS_URL, type JobsConnectionOptions } from '#client';
import { DEFAULT_SUBJECT_PREFIX } from '#contracts';

/** Where and as whom the CLI talks to the service: the service's own variables, and the CLI's. */
export interface CliSettings {
  connection: JobsConnectionOptions;
  /** NATS_URL as given, to say what could not be reached. */
  servers: string;
  subjectPrefix: string;
  stream: string;
  /** The Object Store bucket the import/export worker reads files from and writes them to. */
  filesBucket: string;
  /** Who sends the commands, named in their subjects (`<prefix>.cmd.<name>.as.<actor>`); none: `anonymous`. */
  actor: string | undefined;
}

export const DEFAULT_FILES_BUCKET = 'JOBS_files';

/** An actor is one NATS subject token. */
const ACTOR_TOKEN = /^[^\s.*>]{1,200}$/;

/**
 * The settings from the environment (NATS_URL and the NATS_* credentials, JOBS_SUBJECT_PREFIX,
 * JOBS_STREAM, JOBS_FILES_BUCKET, JOBS_ACTOR) and the command line's global options. The actor is
 * `--actor`, else JOBS_ACTOR, else NATS_USER (a server enforcing deploy/nats/jobs.conf lets a user
 * send commands only as itself), else the login name.
 */
export function cliSettings(env: NodeJS.ProcessEnv, options: { server?: string; actor?: string }): CliSettings {
  const connection = connectionOptionsFromEnv(options.server ? { ...env, NATS_URL: options.server } : env);
  const servers = String(connection.servers ?? DEFAULT_NATS_URL);
  const login = safeLoginName();
  const actor = options.actor ?? (env.JOBS_ACTOR || env.NATS_USER || (login && ACTOR_TOKEN.test(login) ? login : undefined));
  return {
    connection,
    servers,
    subjectPrefix: env.JOBS_SUBJECT_PREFIX || DEFAULT_SUBJECT_PREFIX,
    stream: env.JOBS_STREAM || 'JOBS',
    filesBucket: env.JOBS_FILES_BUCKET || DEFAULT_FILES_BUCKET,
    actor,
  };
}

function safeLoginName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}
