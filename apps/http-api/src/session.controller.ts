import { Body, Controller, Delete, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { validateBody } from '#contracts';
import type { Operator, Sessions, UsersFile } from '#operator-access';
import { ApiError } from './api-error.js';
import { Access, CurrentOperator } from './auth.guard.js';
import { SESSION_COOKIE, SESSIONS, USERS_FILE } from './http-api.tokens.js';

export const loginSchema = z.strictObject({ token: z.string().min(1).max(1_000) });

/** The console's login: a token once, then an HttpOnly cookie (which EventSource sends, unlike a header). */
@Controller('api/v1/session')
export class SessionController {
  constructor(
    @Inject(USERS_FILE) private readonly users: UsersFile,
    @Inject(SESSIONS) private readonly sessions: Sessions,
  ) {}

  @Post()
  @HttpCode(200)
  @Access('public')
  login(@Body() body: unknown, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const checked = validateBody(loginSchema, body, 'login');
    if (!checked.ok) throw new ApiError(checked.error);
    const operator = this.users.authenticate(checked.value.token);
    if (operator === null)
      throw new ApiError({ code: 'UNAUTHENTICATED', message: "this token is no user's: check it, or ask an admin for a new one" });
    reply.setCookie(SESSION_COOKIE, this.sessions.issue(operator), {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      secure: request.protocol === 'https',
    });
    return { ok: true as const, user: operator };
  }

  @Get()
  @Access('operator')
  current(@CurrentOperator() operator: Operator) {
    return { ok: true as const, user: operator };
  }

  @Delete()
  @Access('public')
  logout(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', path: '/', secure: request.protocol === 'https' });
    return { ok: true as const };
  }
}
