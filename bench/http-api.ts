import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UsersFile, type Right } from '#operator-access';
import { startBuilt, stopApp } from './bench-support.js';

export interface RunningHttpApi {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /** A Bearer token of a user with `rights`. */
  token: string;
  stop(): Promise<void>;
}

/**
 * Starts the built HTTP API as its own process on a free port, beside the service of `prefix` and
 * `stream`, with a users file of its own (in a temp folder) holding one user with `rights`.
 */
export async function startHttpApiProcess(
  natsUrl: string,
  prefix: string,
  stream: string,
  rights: Right[] = ['read'],
): Promise<RunningHttpApi> {
  const folder = mkdtempSync(path.join(tmpdir(), 'bench-http-api-'));
  const usersFile = path.join(folder, 'users.json');
  const token = await UsersFile.addUser(usersFile, 'bench', rights);
  const env = {
    NATS_URL: natsUrl,
    JOBS_SUBJECT_PREFIX: prefix,
    JOBS_STREAM: stream,
    DATA_DIR: folder,
    HTTP_PORT: '0',
    JOBS_USERS_FILE: usersFile,
    JOBS_CONSOLE_DIR: folder,
  };
  const { child, ready } = await startBuilt('apps/http-api/src/main.js', env, /Console: (http:\/\/\S+\/)/);
  return {
    child,
    url: ready[1]!,
    token,
    stop: async () => {
      await stopApp(child);
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** GETs `url` on a kept-alive connection of `agent` and parses the JSON reply; a status other than 200 throws. */
export function getJson(agent: http.Agent, url: string, token: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) reject(new Error(`GET ${url}: ${res.statusCode} ${text.slice(0, 300)}`));
        else resolve(JSON.parse(text));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
