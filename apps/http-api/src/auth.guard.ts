import { createParamDecorator, Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { authorize, type AccessRequest, type Operator, type Sessions, type UsersFile } from '#operator-access';
import { ApiError } from './api-error.js';
import { SESSION_COOKIE, SESSIONS, USERS_FILE } from './http-api.tokens.js';

/**
 * What a route needs: `public` (no login), `operator` (a login; the route decides the rest, as a
 * command's right depends on its job's kind), `read`, `admin`.
 */
export type RouteAccess = 'public' | 'operator' | 'read' | 'admin';

const ACCESS_KEY = 'jobs:access';
export const Access = (access: RouteAccess) => SetMetadata(ACCESS_KEY, access);

type AuthenticatedRequest = FastifyRequest & { operator?: Operator };

/** The logged-in operator, which the guard put on the request. */
export const CurrentOperator = createParamDecorator((_: unknown, context: ExecutionContext): Operator => {
  const operator = context.switchToHttp().getRequest<AuthenticatedRequest>().operator;
  if (operator === undefined) throw new Error('a route that reads the operator must not be public');
  return operator;
});

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Throws FORBIDDEN unless `operator` may do what `request` asks. */
export function requireAccess(operator: Operator, request: AccessRequest): void {
  const decision = authorize(operator, request);
  if (!decision.ok) throw new ApiError(decision.error);
}

/**
 * Who is asking, before anything is sent to NATS: a Bearer token or the session cookie, else
 * UNAUTHENTICATED; then the route's right, else FORBIDDEN. A token is compared by its hash and
 * never logged or echoed.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(USERS_FILE) private readonly users: UsersFile,
    @Inject(SESSIONS) private readonly sessions: Sessions,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const access = this.reflector.getAllAndOverride<RouteAccess | undefined>(ACCESS_KEY, [context.getHandler(), context.getClass()]);
    if (access === 'public') return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const operator = this.authenticate(request);
    request.operator = operator;
    if (access === 'read') requireAccess(operator, { type: 'read' });
    else if (access === 'admin') requireAccess(operator, { type: 'admin' });
    else if (access !== 'operator') throw new Error('every route says who may use it with @Access');
    return true;
  }

  private authenticate(request: FastifyRequest): Operator {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const token = BEARER.exec(header)?.[1];
      const operator = token === undefined ? null : this.users.authenticate(token);
      if (operator === null) {
        throw new ApiError({
          code: 'UNAUTHENTICATED',
          message: 'the Authorization header holds no valid token: send "Authorization: Bearer <your API token>"',
        });
      }
      return operator;
    }
    const session = request.cookies?.[SESSION_COOKIE];
    if (session !== undefined) {
      const operator = this.sessions.read(session);
      if (operator === null)
        throw new ApiError({ code: 'UNAUTHENTICATED', message: 'your session has ended: log in again with your API token' });
      return operator;
    }
    throw new ApiError({
      code: 'UNAUTHENTICATED',
      message: 'log in: send "Authorization: Bearer <your API token>", or open a session with POST /api/v1/session',
    });
  }
}
