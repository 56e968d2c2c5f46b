import { Module, type DynamicModule } from '@nestjs/common';
import type { ServiceConfig } from './service-config.js';

export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');

/** Makes the service configuration injectable everywhere as SERVICE_CONFIG. */
@Module({})
export class ServiceConfigModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: ServiceConfigModule,
      global: true,
      providers: [{ provide: SERVICE_CONFIG, useValue: config }],
      exports: [SERVICE_CONFIG],
    };
  }
}
