import iconv from 'iconv-lite';
import { z } from 'zod';
import { WorkerError } from './errors.js';

export const COLUMN_TYPES = ['text', 'integer', 'decimal', 'boolean', 'date', 'timestamp', 'email'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** Lines a transaction: each costs PostgreSQL a commit and a checkpoint, the job service a reject command (see README). */
export const DEFAULT_BATCH_SIZE = 10_000;

const name = z.string().min(1).max(200);
const oneCharacter = (what: string) => z.string().length(1, `the ${what} is one character`);

/** Where a file is: a path under JOBS_FILES_DIR, or an object of the JOBS_FILES_BUCKET bucket. */
export const fileLocationSchema = z.union([
  z.strictObject({ file: z.string().min(1).max(1000) }),
  z.strictObject({ object: z.string().min(1).max(1000) }),
]);
export type FileLocation = z.infer<typeof fileLocationSchema>;

const csvShape = {
  delimiter: oneCharacter('delimiter').default(','),
  quote: oneCharacter('quote').default('"'),
  header: z.boolean().default(true),
};

export const importCsvSchema = z
  .strictObject({
    ...csvShape,
    encoding: z
      .string()
      .refine((encoding) => iconv.encodingExists(encoding), {
        message: 'is not an encoding iconv-lite knows (utf-8, latin1, utf-16le, ...)',
      })
      .default('utf-8'),
  })
  .refine((csv) => csv.delimiter !== csv.quote, { message: 'the delimiter and the quote must differ' })
  .refine((csv) => !'\r\n'.includes(csv.delimiter) && !'\r\n'.includes(csv.quote), {
    message: 'a line break can be neither the delimiter nor the quote',
  });

export const importColumnSchema = z.strictObject({
  /** The table's column. */
  name,
  /** The file's column: a header name, or its 1-based position; the column's name by default. */
  from: z.union([name, z.number().int().positive()]).optional(),
  type: z.enum(COLUMN_TYPES, { error: () => `a column type is one of ${COLUMN_TYPES.join(', ')}` }).default('text'),
  required: z.boolean().default(false),
});

export const importDefinitionSchema = z
  .strictObject({
    source: fileLocationSchema,
    table: name,
    csv: importCsvSchema.default({ delimiter: ',', quote: '"', header: true, encoding: 'utf-8' }),
    columns: z.array(importColumnSchema).min(1, 'at least one column to import'),
    mode: z.enum(['insert', 'upsert']).default('insert'),
    key: z.array(name).min(1).optional(),
    batchSize: z.number().int().min(1).max(50_000).default(DEFAULT_BATCH_SIZE),
  })
  .superRefine((definition, context) => {
    const names = definition.columns.map((column) => column.name);
    const duplicate = names.find((columnName, index) => names.indexOf(columnName) !== index);
    if (duplicate) context.addIssue({ code: 'custom', path: ['columns'], message: `column "${duplicate}" is mapped twice` });
    if (definition.mode === 'upsert' && !definition.key) {
      context.addIssue({ code: 'custom', path: ['key'], message: 'upsert needs a key: the columns that identify a row' });
    }
    for (const keyColumn of definition.key ?? []) {
      if (!names.includes(keyColumn)) {
        context.addIssue({ code: 'custom', path: ['key'], message: `key column "${keyColumn}" is not among the imported columns` });
      }
    }
    if (!definition.csv.header) {
      definition.columns.forEach((column, index) => {
        if (typeof column.from !== 'number') {
          context.addIssue({
            code: 'custom',
            path: ['columns', index, 'from'],
            message: `the file has no header row: give column "${column.name}" its position (from: 1 for the first)`,
          });
        }
      });
    }
  });

export type ImportDefinition = z.infer<typeof importDefinitionSchema>;
export type ImportColumn = z.infer<typeof importColumnSchema>;

export const exportCsvSchema = z
  .strictObject(csvShape)
  .refine((csv) => csv.delimiter !== csv.quote, { message: 'the delimiter and the quote must differ' });

export const exportDefinitionSchema = z
  .strictObject({
    table: name.optional(),
    /** One SELECT (or WITH ... SELECT) statement, run in a read-only transaction. */
    query: z.string().min(1).max(100_000).optional(),
    target: fileLocationSchema,
    csv: exportCsvSchema.default({ delimiter: ',', quote: '"', header: true }),
  })
  .refine((definition) => (definition.table === undefined) !== (definition.query === undefined), {
    message: 'an export names a table or a query, one of them',
  });

export type ExportDefinition = z.infer<typeof exportDefinitionSchema>;

function parseDefinition<T>(schema: z.ZodType<T>, kind: string, definition: unknown): T {
  const parsed = schema.safeParse(definition);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  throw new WorkerError('DEFINITION_INVALID', `the ${kind} definition is not valid: ${problems.join('; ')}. Update the job's definition.`);
}

export const parseImportDefinition = (definition: unknown): ImportDefinition =>
  parseDefinition(importDefinitionSchema, 'import', definition);

export const parseExportDefinition = (definition: unknown): ExportDefinition =>
  parseDefinition(exportDefinitionSchema, 'export', definition);
