import { z } from 'zod';
import { executorIdSchema, jobIdSchema, leaseMsSchema } from './commands.js';

/**
 * What an executor publishes on `<prefix>.executors.heartbeat.<executor>` every `leaseMs / 3`: while
 * the service hears it, the executor's claims hold; once it has not for a claim's lease, the job is
 * shut down ("Server shutdown in progress") for Start to run it again.
 */
export const executorHeartbeatSchema = z.object({
  executor: executorIdSchema,
  /** The job kinds it runs. */
  kinds: z.array(z.string()),
  /** The jobs it is running. */
  jobs: z.array(jobIdSchema),
  leaseMs: leaseMsSchema,
  /** ISO-8601 time it was sent. */
  at: z.string(),
});

export type ExecutorHeartbeat = z.infer<typeof executorHeartbeatSchema>;
