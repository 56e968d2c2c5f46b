import { describe, expect, it } from 'vitest';
import { singleSelect } from './export-query.js';

describe("an export's query", () => {
  it('is one SELECT or WITH statement, its trailing semicolon dropped', () => {
    expect(singleSelect('select * from people;  -- done\n')).toBe('select * from people');
    expect(singleSelect("/* who */ WITH x AS (SELECT 1) SELECT ';' AS s, $$;$$ FROM x")).toBe(
      "/* who */ WITH x AS (SELECT 1) SELECT ';' AS s, $$;$$ FROM x",
    );
    expect(singleSelect('(select 1)')).toBe('(select 1)');
  });

  it('is refused when it writes or holds another statement', () => {
    expect(() => singleSelect('delete from people')).toThrow('starts with DELETE');
    expect(() => singleSelect('select 1; drop table people')).toThrow('holds more than one statement');
    expect(() => singleSelect("select 'unclosed")).toThrow("has a ' that is not closed");
    expect(() => singleSelect('  ')).toThrow('is empty');
    expect(() => singleSelect('update people set a = 1')).toThrow(expect.objectContaining({ code: 'QUERY_NOT_READ_ONLY' }));
  });
});
