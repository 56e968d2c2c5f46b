import {
  ConsoleLogger,
  Module,
  type DynamicModule,
  type INestMicroservice,
  type LoggerService,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { DEFAULT_NATS_URL, ServiceConfigModule, loadServiceConfig, type ServiceConfig } from '#config';
import { ensureNatsServer } from '#nats-server';
import { JobsNatsServer } from '#nats-transport';

const LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;

export function createLogger(config: Pick<ServiceConfig, 'logFormat' | 'logLevel'>): ConsoleLogger {
  return new ConsoleLogger('JobService', {
    json: config.logFormat === 'json',
    colors: config.logFormat === 'text' && process.stdout.isTTY,
    logLevels: LEVELS.slice(0, LEVELS.indexOf(config.logLevel) + 1) as never,
  });
}

/** The modules of the sides a process runs, built on its NATS connection. */
export type JobServiceModules = (config: ServiceConfig, connection: NatsConnection) => DynamicModule[];

/** Closes the process's NATS connection after everything else has shut down. */
class NatsConnectionShutdown implements OnApplicationShutdown {
  constructor(private readonly connection: NatsConnection) {}

  async onApplicationShutdown(): Promise<void> {
    await this.connection.drain().catch(() => this.connection.close());
  }
}

/** Starts a microservice answering the jobs API with the sides `modules` builds. */
export async function startJobsMicroservice(
  config: ServiceConfig,
  modules: JobServiceModules,
  logger: LoggerService | false = createLogger(config),
): Promise<INestMicroservice> {
  const connection = await connect(config.connection);
  @Module({
    imports: [ServiceConfigModule.forRoot(config), CqrsModule.forRoot(), ...modules(config, connection)],
    providers: [{ provide: NatsConnectionShutdown, useValue: new NatsConnectionShutdown(connection) }],
  })
  class JobServiceRootModule {}
  try {
    const app = await NestFactory.createMicroservice(JobServiceRootModule, {
      strategy: new JobsNatsServer({ connection, subjectPrefix: config.subjectPrefix, maxPayloadBytes: config.maxPayloadBytes }),
      logger,
      // A failure to set up is thrown to the caller, which says why and exits 1 (a test sees the error).
      abortOnError: false,
    });
    await app.listen();
    return app;
  } catch (error) {
    await connection.close();
    throw error;
  }
}

/** Something a process runs beside the service on the same configuration: the HTTP side, an executor. */
export interface Companion {
  /** Stops it before the service itself stops, so that what it sends on its way out is still answered. */
  stop(signal: string): Promise<void>;
}

/** Starts a process's companions once the service answers; the first is stopped last. */
export type StartCompanions = (config: ServiceConfig, logger: LoggerService) => Promise<Companion[]>;

/**
 * What `main.ts` of each app does: reads the environment, makes sure NATS answers (starting a
 * local nats-server only at the default NATS_URL with no credentials, and exiting with the reason
 * otherwise), serves until SIGINT or SIGTERM, then shuts down gracefully.
 */
export async function runJobsService(name: string, modules: JobServiceModules, startCompanions?: StartCompanions): Promise<void> {
  let config: ServiceConfig;
  try {
    config = loadServiceConfig();
  } catch (error) {
    console.error(String(error instanceof Error ? error.message : error));
    process.exit(2);
  }
  const logger = createLogger(config);
  try {
    const embedded = await ensureNatsServer(
      { natsUrl: config.natsUrl, connection: config.connection, dataDir: config.dataDir, embeddedUrl: DEFAULT_NATS_URL },
      logger,
    );
    const started = Date.now();
    const app = await startJobsMicroservice(config, modules, logger);
    const companions = (await startCompanions?.(config, logger)) ?? [];
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.log(`${signal}: finishing requests in flight, then stopping`);
      for (const companion of companions.toReversed()) await companion.stop(signal);
      await app.close();
      await embedded?.stop();
      logger.log('stopped');
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
    // Said last: a supervisor that signals the process as soon as it reads this gets a graceful stop.
    logger.log(
      `${name} ready in ${Date.now() - started} ms: NATS ${config.natsUrl}, subjects ${config.subjectPrefix}.*, stream ${config.stream}, data ${config.dataDir}`,
    );
  } catch (error) {
    logger.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
