import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The machine's PostgreSQL, or TEST_DATABASE_URL's. */
export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A schema of the test's own: its name, a URL whose connections have it as their search path, and its removal. */
export interface TestSchema {
  schema: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates a schema named `<prefix>_<time>_<random>` on the test PostgreSQL. */
export async function createTestSchema(prefix: string): Promise<TestSchema> {
  const schema = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await run(`create schema "${schema}"`);
  return {
    schema,
    url: `${TEST_POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    drop: () => run(`drop schema if exists "${schema}" cascade`),
  };
}

async function run(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
