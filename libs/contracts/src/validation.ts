import type { z } from 'zod';
import { errorReply, type ErrorReply } from './errors.js';

/** Checks a request body against its schema: the value, or a VALIDATION_FAILED reply naming each problem. */
export function validateBody<S extends z.ZodType>(schema: S, body: unknown, what: string): { ok: true; value: z.infer<S> } | ErrorReply {
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = parsed.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: issue.message,
  }));
  return errorReply({
    code: 'VALIDATION_FAILED',
    message: `invalid ${what}: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
    issues,
  });
}
