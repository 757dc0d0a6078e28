/**
 * Aligned text columns for the terminal (the printed report, the worker table).
 *
 * @module
 */

/** Pads cells so columns line up; `right[i]` right-aligns column i. Cells are joined by two spaces. */
export function alignColumns(rows: readonly string[][], right: readonly boolean[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}
