import { ConsoleLogger, Module, type LoggerService } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { connect } from '@nats-io/transport-node';
import { JobsClient } from '#client';
import { ServiceConfigModule, type ServiceConfig } from '#config';
import { sessionsFor, UsersFile } from '#operator-access';
import { ApiExceptionFilter } from './api-exception.filter.js';
import { AuthGuard } from './auth.guard.js';
import { ConsoleController } from './console.controller.js';
import { EventsController } from './events/events.controller.js';
import { HealthController } from './health.controller.js';
import { loadHttpApiConfig, type HttpApiConfig } from './http-api.config.js';
import { LiveJobEvents } from './events/live-job-events.js';
import { HTTP_API_CONFIG, JOB_SUMMARIES, JOBS_CLIENT, LIVE_JOB_EVENTS, SESSIONS, USERS_FILE } from './http-api.tokens.js';
import { JobSummaries } from './job-summaries.js';
import { JobsController } from './jobs.controller.js';
import { OpenApiController } from './openapi/openapi.controller.js';
import { SessionController } from './session.controller.js';

export interface HttpApiOptions {
  /** The service's configuration: NATS, subject prefix, stream, payload limit, data folder. */
  config: ServiceConfig;
  /** HTTP_HOST, HTTP_PORT, JOBS_USERS_FILE: from the environment unless given. */
  http?: HttpApiConfig;
  logger?: LoggerService;
  /** Where the console's address goes: standard output unless given. */
  print?: (line: string) => void;
}

export interface HttpApi {
  /** `http://host:port/` */
  url: string;
  port: number;
  /** The first admin's token, when this start created the users file; null otherwise. */
  firstAdminToken: string | null;
  /** Ends the live streams, finishes the requests in flight, closes the NATS connection. */
  stop(signal?: string): Promise<void>;
}

/**
 * Starts the HTTP API and the console on its own NATS connection (a client of the service, like
 * any other), and prints the console's address; on the first start, the address with the admin's
 * token too, once.
 */
export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const { config } = options;
  const http = options.http ?? loadHttpApiConfig(config);
  const logger = options.logger ?? new ConsoleLogger('HttpApi');
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { users, firstAdminToken } = await UsersFile.open(http.usersFile, { onProblem: (error) => logger.warn?.(error.message) });
  const connection = await connect({ ...config.connection, name: 'job-tracking-http-api' });
  const client = new JobsClient(connection, { subjectPrefix: config.subjectPrefix, stream: config.stream });
  const live = new LiveJobEvents(connection, config.stream, config.subjectPrefix);

  @Module({
    imports: [ServiceConfigModule.forRoot(config)],
    controllers: [SessionController, JobsController, EventsController, OpenApiController, HealthController, ConsoleController],
    providers: [
      { provide: HTTP_API_CONFIG, useValue: http },
      { provide: JOBS_CLIENT, useValue: client },
      { provide: JOB_SUMMARIES, useValue: new JobSummaries(client) },
      { provide: LIVE_JOB_EVENTS, useValue: live },
      { provide: USERS_FILE, useValue: users },
      { provide: SESSIONS, useValue: sessionsFor(users) },
      { provide: APP_GUARD, useClass: AuthGuard },
    ],
  })
  class HttpApiModule {}

  try {
    // Fastify's request log is off: it would write the Authorization header's token and cookies.
    const adapter = new FastifyAdapter({ logger: false, bodyLimit: config.maxPayloadBytes });
    const app = await NestFactory.create<NestFastifyApplication>(HttpApiModule, adapter, { logger, abortOnError: false });
    const filter = new ApiExceptionFilter(logger, config.maxPayloadBytes);
    app.useGlobalFilters(filter);
    await app.register(fastifyCookie);
    // Only `reply.sendFile`: the console's controller picks the file.
    await app.register(fastifyStatic, { root: http.consoleDir, serve: false, cacheControl: false });
    await app.listen(http.port, http.host);
    const { port } = app.getHttpServer().address() as { port: number };
    const url = `http://${http.host.includes(':') ? `[${http.host}]` : http.host}:${port}/`;
    print(`Console: ${url}`);
    if (firstAdminToken !== null) print(`Console: ${url}?token=${firstAdminToken}`);
    return {
      url,
      port,
      firstAdminToken,
      stop: async () => {
        await app.close();
        live.stop();
        await connection.drain().catch(() => connection.close());
      },
    };
  } catch (error) {
    await connection.close();
    throw error;
  }
}
