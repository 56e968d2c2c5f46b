import { Module, type DynamicModule } from '@nestjs/common';
import { COMMAND_ATTEMPTS, DEFAULT_COMMAND_ATTEMPTS, ExecuteJobCommandHandler } from './execute-job-command.js';
import { JobCommandsController } from './job-commands.controller.js';
import { JobRepository } from './job-repository.js';
import { LeaseMonitor } from './lease-monitor.js';

/**
 * The write side: `<prefix>.cmd.*` requests become events, and the executors' leases are watched.
 * Needs EVENT_STORE from EventStoreModule, SERVICE_CONFIG and the root's CqrsModule.
 */
@Module({})
export class CommandServiceModule {
  static forRoot(options: { attempts?: number } = {}): DynamicModule {
    return {
      module: CommandServiceModule,
      controllers: [JobCommandsController],
      providers: [
        JobRepository,
        ExecuteJobCommandHandler,
        LeaseMonitor,
        { provide: COMMAND_ATTEMPTS, useValue: options.attempts ?? DEFAULT_COMMAND_ATTEMPTS },
      ],
    };
  }
}
