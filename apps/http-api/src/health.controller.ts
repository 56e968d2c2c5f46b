import { Controller, Get, HttpCode, Inject } from '@nestjs/common';
import { JobsClient } from '#client';
import { ApiError } from './api-error.js';
import { Access } from './auth.guard.js';
import { JOBS_CLIENT } from './http-api.tokens.js';

/** A readiness check waits this long for the service. */
const READY_TIMEOUT_MS = 2_000;

/** For orchestrators: is the process up, and can it serve. */
@Controller()
export class HealthController {
  constructor(@Inject(JOBS_CLIENT) private readonly client: JobsClient) {}

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
    if (this.client.nc.isClosed()) throw new ApiError({ code: 'UNAVAILABLE', message: 'the NATS connection is closed' });
    await this.client.list({ limit: 1 }, { timeoutMs: READY_TIMEOUT_MS });
    return { ok: true as const };
  }
}
