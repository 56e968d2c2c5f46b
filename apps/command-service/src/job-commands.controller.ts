import { Controller, Inject } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { commandSchemas, errorReply, isCommandName, validateBody } from '#contracts';
import { SERVICE_CONFIG, apiName, type ServiceConfig } from '#nats-transport';
import { ExecuteJobCommand, type CommandReply } from './execute-job-command.js';

/** `<prefix>.cmd.<name>`: validates the body at the edge, then hands the command to its handler. */
@Controller()
export class JobCommandsController {
  constructor(
    private readonly commandBus: CommandBus,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @MessagePattern('cmd.>')
  async handle(@Payload() body: unknown, @Ctx() context: NatsContext): Promise<CommandReply> {
    const subject = context.getSubject();
    const name = apiName(subject, this.config, 'cmd');
    if (!isCommandName(name)) {
      return errorReply({ code: 'UNKNOWN_COMMAND', message: `there is no command "${name}" (subject ${subject})` });
    }
    const validated = validateBody(commandSchemas[name], body, `${name} command`);
    if (!validated.ok) return validated;
    return this.commandBus.execute(new ExecuteJobCommand(name, validated.value));
  }
}
