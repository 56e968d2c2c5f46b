import { Controller, Get } from '@nestjs/common';
import { Access } from '../auth.guard.js';
import { openApiDocument } from './openapi-document.js';

@Controller('api/v1')
export class OpenApiController {
  private readonly document = openApiDocument();

  @Get('openapi.json')
  @Access('public')
  openApi() {
    return this.document;
  }
}
