/**
 * The word count benchmark's DuckDB run (`@duckdb/node-api`): counts the
 * words of one file on T threads into an in-memory table, as SQL.
 *
 *   npx node bench/duckdb-wordcount.ts <file> <threads>
 *
 * Lines are read with `read_csv` as one VARCHAR column (no quotes, no
 * header, a delimiter byte the corpora do not hold), split on runs of ASCII
 * whitespace with `regexp_split_to_array` (RE2, the class `[ \t\n\v\f\r]`
 * of examples/wordcount.ts), and counted with `GROUP BY`. DuckDB's strings
 * are UTF-8: lines that are not (some mails of the SpamAssassin corpus) are
 * skipped (`ignore_errors`), so its totals may fall short of the others'.
 *
 * Prints one JSON line: `{ "ms", "words", "distinct", "maxRssBytes" }` (ms:
 * the query, after the database is open).
 */
import { DuckDBInstance } from '@duckdb/node-api';

const [path, threads] = process.argv.slice(2);
if (path === undefined || threads === undefined) {
  console.error('usage: node bench/duckdb-wordcount.ts <file> <threads>');
  process.exit(2);
}
const db = await DuckDBInstance.create(':memory:', { threads });
const connection = await db.connect();
const file = path.replaceAll("'", "''");
const start = performance.now();
await connection.run(`
  CREATE TABLE counts AS
  SELECT w, count(*) AS n
  FROM (
    SELECT unnest(regexp_split_to_array(line, '[ \\t\\n\\v\\f\\r]+')) AS w
    FROM read_csv('${file}', columns = {'line': 'VARCHAR'}, header = false, delim = '\\x02',
                  quote = '', escape = '', auto_detect = false, ignore_errors = true, strict_mode = false)
  )
  WHERE w <> ''
  GROUP BY w`);
const ms = performance.now() - start;
const reader = await connection.runAndReadAll(
  'SELECT sum(n)::DOUBLE AS words, count(*)::DOUBLE AS n FROM counts',
);
const [row] = reader.getRowObjects() as Array<{ words: number; n: number }>;
const maxRssBytes = process.resourceUsage().maxRSS * 1024;
console.log(
  JSON.stringify({ ms: Math.round(ms), words: row?.words ?? 0, distinct: row?.n ?? 0, maxRssBytes }),
);
connection.closeSync();
