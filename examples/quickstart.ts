// The README's ten-line job: words separated by whitespace, counted.
import { defineJob } from 'tsmr';

export default defineJob({
  map(offset: number, line: string, ctx) {
    for (const word of line.split(/\s+/)) if (word) ctx.emit(word, 1);
  },
  combineValues: (a: number, b: number) => a + b,
  reduce(word: string, counts, ctx) {
    let n = 0;
    for (const c of counts) n += c;
    ctx.emit(word, n);
  },
});
