import type { TestService } from './service.js';

/** Asks again, up to `attempts` times in all: right after a failover or a restart an occasional JetStream API request goes unanswered. */
export async function retry<T>(operation: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}

export interface Patience {
  /** How long it keeps trying one command. */
  withinMs: number;
  /** How long it waits for each reply. */
  requestTimeoutMs: number;
  /** How long it waits before it sends again. */
  pauseMs: number;
}

/**
 * What a careful client does: sends a command with its commandId until it gets an answer that is
 * not UNAVAILABLE, TIMEOUT or INTERNAL, the same commandId every time, for up to `withinMs`.
 */
export async function sendUntilAnswered(
  service: Pick<TestService, 'nc' | 'config'>,
  name: string,
  body: Record<string, unknown>,
  patience: Patience,
): Promise<any> {
  const { nc, config } = service;
  const deadline = Date.now() + patience.withinMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const reply = await nc.request(`${config.subjectPrefix}.cmd.${name}`, JSON.stringify(body), { timeout: patience.requestTimeoutMs });
      const answer = reply.json<any>();
      if (answer.ok || !['UNAVAILABLE', 'TIMEOUT', 'INTERNAL'].includes(answer.error.code)) return answer;
      last = answer;
    } catch (error) {
      // No answer in time, or no responder while the client reconnects: the server is restarting or failing over.
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, patience.pauseMs));
  }
  throw new Error(`${name} ${JSON.stringify(body)} got no answer within ${patience.withinMs} ms; last: ${String(last)}`);
}
