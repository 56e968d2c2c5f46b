import type Database from 'better-sqlite3';

/** Rows one multi-row INSERT writes: each run of a statement has a cost of its own, which its rows share. */
const ROWS_PER_STATEMENT = 16;

/**
 * Collects the rows of one table during a transaction and writes them `ROWS_PER_STATEMENT` at a
 * time; `flush` writes the rest, and must run before the transaction commits. A transaction that
 * fails calls `discard`, so that none of its rows go into the next one.
 */
export class RowInserter<Row extends unknown[]> {
  private readonly many: Database.Statement<unknown[]>;
  private readonly one: Database.Statement<unknown[]>;
  private readonly width: number;
  private readonly values: unknown[] = [];
  private rows = 0;

  constructor(connection: Database.Database, table: string, columns: readonly string[]) {
    this.width = columns.length;
    const row = `(${columns.map(() => '?').join(', ')})`;
    const insert = `INSERT INTO ${table} (${columns.join(', ')}) VALUES `;
    this.many = connection.prepare(insert + Array<string>(ROWS_PER_STATEMENT).fill(row).join(', '));
    this.one = connection.prepare(insert + row);
  }

  add(...row: Row): void {
    for (const value of row) this.values.push(value);
    if (++this.rows === ROWS_PER_STATEMENT) {
      this.many.run(this.values);
      this.clear();
    }
  }

  flush(): void {
    for (let start = 0; start < this.values.length; start += this.width) this.one.run(this.values.slice(start, start + this.width));
    this.clear();
  }

  discard(): void {
    this.clear();
  }

  private clear(): void {
    this.values.length = 0;
    this.rows = 0;
  }
}
