/**
 * `npm run bench`: runs every benchmark's `main()` in sequence. A benchmark
 * module that does not exist (yet) is skipped.
 */
import { existsSync } from 'node:fs';

const modules = ['wordcount', 'batch', 'streaming', 'terasort', 'dashboard', 'cluster'];

for (const name of modules) {
  const url = new URL(`./${name}.ts`, import.meta.url);
  if (!existsSync(url)) {
    console.log(`\n(bench/${name}.ts not found: skipped)`);
    continue;
  }
  const bench = (await import(url.href)) as { main?: () => Promise<unknown> };
  if (typeof bench.main !== 'function') throw new Error(`bench/${name}.ts exports no main()`);
  await bench.main();
}
