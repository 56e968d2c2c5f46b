import { Controller, Inject, UseFilters } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { SERVICE_CONFIG, type ServiceConfig } from '#config';
import { PassThroughExceptionFilter, readCommandRequest } from '#nats-transport';
import { ExecuteJobCommand, type CommandReply } from './execute-job-command.js';

/**
 * `<prefix>.cmd.<name>` and `<prefix>.cmd.<name>.as.<actor>`: validates the body at the edge, then
 * hands the command to its handler. An actor the subject names is authenticated only where the
 * deployment says its NATS server lets each user publish under its own name alone.
 */
@Controller()
@UseFilters(PassThroughExceptionFilter)
export class JobCommandsController {
  constructor(
    private readonly commandBus: CommandBus,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @MessagePattern('cmd.>')
  handle(@Payload() body: unknown, @Ctx() context: NatsContext): CommandReply | Promise<CommandReply> {
    const request = readCommandRequest(context.getSubject(), body, this.config);
    if (!request.ok) return request;
    const actorAuthenticated = request.actorFromSubject && this.config.trustActorSubjects;
    return this.commandBus.execute(new ExecuteJobCommand(request.name, request.body, actorAuthenticated));
  }
}
