import { Controller, Inject, UseFilters } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { commandSchemas } from '#contracts';
import { SERVICE_CONFIG, type ServiceConfig } from '#config';
import { PassThroughExceptionFilter, readApiRequest } from '#nats-transport';
import { ExecuteJobCommand, type CommandReply } from './execute-job-command.js';

/** `<prefix>.cmd.<name>`: validates the body at the edge, then hands the command to its handler. */
@Controller()
@UseFilters(PassThroughExceptionFilter)
export class JobCommandsController {
  constructor(
    private readonly commandBus: CommandBus,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @MessagePattern('cmd.>')
  handle(@Payload() body: unknown, @Ctx() context: NatsContext): CommandReply | Promise<CommandReply> {
    const request = readApiRequest(context.getSubject(), body, this.config, 'cmd', commandSchemas);
    if (!request.ok) return request;
    return this.commandBus.execute(new ExecuteJobCommand(request.name, request.body));
  }
}
