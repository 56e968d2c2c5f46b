import { Controller, Get, HttpCode, Inject } from '@nestjs/common';
import { JobsClient } from '#client';
import { SERVICE_CONFIG, type ServiceConfig } from '#config';
import { ApiError } from './api-error.js';
import { Access } from './auth.guard.js';
import { JOBS_CLIENT } from './http-api.tokens.js';

/** A readiness check waits this long for the service, once: a probe asks again itself. */
const READY_TIMEOUT_MS = 2_000;

/** For orchestrators: is the process up, and can it serve. */
@Controller()
export class HealthController {
  private readonly probe: JobsClient;

  constructor(@Inject(JOBS_CLIENT) client: JobsClient, @Inject(SERVICE_CONFIG) config: ServiceConfig) {
    this.probe = new JobsClient(client.nc, {
      subjectPrefix: config.subjectPrefix,
      stream: config.stream,
      requestTimeoutMs: READY_TIMEOUT_MS,
      retry: { attempts: 1 },
    });
  }

  @Get('healthz')
  @HttpCode(200)
  @Access('public')
  health() {
    return { ok: true as const };
  }

  /** Ready when NATS is connected and the query side answers (a one-job list: the cheapest read). */
  @Get('readyz')
  @Access('public')
  async ready() {
    if (this.probe.nc.isClosed()) throw new ApiError({ code: 'UNAVAILABLE', message: 'the NATS connection is closed' });
    await this.probe.list({ limit: 1 });
    return { ok: true as const };
  }
}
