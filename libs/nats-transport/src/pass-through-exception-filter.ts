import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';

/**
 * Hands a handler's error to JobsNatsServer as it is. Nest's default filter logs it with its stack
 * and replaces it with "Internal server error", after which NATS or JetStream momentarily gone
 * (UNAVAILABLE, TIMEOUT) could no longer be told from a fault of the service (INTERNAL).
 */
@Catch()
export class PassThroughExceptionFilter implements RpcExceptionFilter {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
