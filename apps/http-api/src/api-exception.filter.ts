import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter, type LoggerService } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isJobsError } from '#client';
import { ApiError, httpStatusFor, type ApiErrorBody } from './api-error.js';

/**
 * Every error answered as `{ok: false, error}` with the status of its code (`httpStatusFor`): the
 * service's (a JobsError from the SDK), this side's (ApiError), Nest's and Fastify's (a body that is
 * no JSON, or too large); anything else is a fault, logged, answered INTERNAL without its details.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(
    private readonly logger: LoggerService,
    /** Fastify's body limit: the size a PAYLOAD_TOO_LARGE names. */
    private readonly bodyLimit: number,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.answer(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }

  answer(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
    // A streamed reply (CSV, live events) that failed after its headers can only be cut short.
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    const body = this.bodyOf(exception, request);
    void reply.code(httpStatusFor(body.code)).send({ ok: false, error: body });
  }

  private bodyOf(exception: unknown, request: FastifyRequest): ApiErrorBody {
    if (exception instanceof ApiError) return exception.body;
    if (isJobsError(exception)) return exception.error;
    const status =
      exception instanceof HttpException
        ? exception.getStatus()
        : typeof exception === 'object' && exception !== null && typeof (exception as { statusCode?: unknown }).statusCode === 'number'
          ? (exception as { statusCode: number }).statusCode
          : 500;
    const message = exception instanceof Error ? exception.message : String(exception);
    if (status === 404) return { code: 'NOT_FOUND', message: `${message}: see /api/v1/openapi.json for the API's routes` };
    if (status === 413) {
      const size = Number(request.headers['content-length']) || 0;
      return {
        code: 'PAYLOAD_TOO_LARGE',
        message: `the body is over ${this.bodyLimit} bytes; on reject, split the records into several commands`,
        size,
        limit: this.bodyLimit,
      };
    }
    if (status >= 400 && status < 500) return { code: 'VALIDATION_FAILED', message: `the request cannot be read: ${message}` };
    this.logger.error(`a request failed: ${exception instanceof Error ? (exception.stack ?? exception.message) : message}`);
    return { code: 'INTERNAL', message: 'the HTTP API failed on this request; it is logged. Retrying will not help until it is fixed' };
  }
}
