import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { Objm, type ObjectStore } from '@nats-io/obj';
import type { RejectsExportReply } from '#contracts';
import { SERVICE_CONFIG, type ServiceConfig } from '#config';
import { NATS_CONNECTION } from './query-service.tokens.js';
import { ReadModelProjector } from './read-model-projector.js';

const encoder = new TextEncoder();

/**
 * Exports a job's rejects as a CSV object in the NATS Object Store: a job can have hundreds of
 * thousands of rejects, more than one NATS message holds, and any NATS client can read an object.
 */
@Injectable()
export class RejectsExporter {
  private bucket: Promise<ObjectStore> | null = null;

  constructor(
    @Inject(NATS_CONNECTION) private readonly connection: NatsConnection,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly projector: ReadModelProjector,
  ) {}

  get bucketName(): string {
    return `${this.config.stream}_exports`;
  }

  async export(jobId: string): Promise<RejectsExportReply> {
    const store = await this.openBucket();
    const chunks = this.projector.queries.rejectsCsv(jobId);
    const name = `rejects/${jobId}/${new Date().toISOString().replace(/[:.]/g, '-')}.csv`;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      cancel() {
        chunks.return();
      },
    });
    const info = await store.put({ name, description: `rejected records of job ${jobId}`, headers: undefined }, body);
    return { ok: true, jobId, contentType: 'text/csv', bucket: this.bucketName, name, size: info.size };
  }

  private openBucket(): Promise<ObjectStore> {
    this.bucket ??= new Objm(this.connection)
      .create(this.bucketName, { ttl: this.config.exportTtlSeconds * 1_000_000_000, replicas: this.config.replicas })
      .catch((error: unknown) => {
        this.bucket = null;
        throw error;
      });
    return this.bucket;
  }
}
