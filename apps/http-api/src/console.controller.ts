import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiError } from './api-error.js';
import { Access } from './auth.guard.js';
import type { HttpApiConfig } from './http-api.config.js';
import { HTTP_API_CONFIG } from './http-api.tokens.js';

/**
 * The console: its built files, and index.html for any other path, so that the single-page
 * application's own routes (`/jobs/nightly-1`) load it. Paths under /api are the API's alone.
 */
@Controller()
export class ConsoleController {
  constructor(@Inject(HTTP_API_CONFIG) private readonly config: HttpApiConfig) {}

  @Get('*')
  @Access('public')
  serve(@Param('*') relative: string, @Res() reply: FastifyReply) {
    if (relative === 'api' || relative.startsWith('api/')) {
      throw new ApiError({ code: 'NOT_FOUND', message: `no route GET /${relative}: see /api/v1/openapi.json for the API's routes` });
    }
    return this.sendConsole(relative, reply);
  }

  @Get()
  @Access('public')
  index(@Res() reply: FastifyReply) {
    return this.sendConsole('', reply);
  }

  private sendConsole(relative: string, reply: FastifyReply) {
    const root = this.config.consoleDir;
    if (!existsSync(path.join(root, 'index.html'))) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(`The console is not built (no ${path.join(root, 'index.html')}): run \`npm run build\`, then reload this page.\n`);
    }
    const file = path.resolve(root, relative);
    const inside = file.startsWith(root + path.sep) && statSync(file, { throwIfNoEntry: false })?.isFile() === true;
    if (!inside) return reply.header('Cache-Control', 'no-cache').sendFile('index.html');
    // Vite's assets/ names are content hashes: they never change; anything else must be looked at again.
    const cache = relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    return reply.header('Cache-Control', cache).sendFile(path.relative(root, file));
  }
}
