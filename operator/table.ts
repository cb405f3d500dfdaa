/**
 * Columns padded to their widest cell, two spaces apart, no trailing blanks.
 * The last cell of a short row runs on (`h2  -  unreachable: ...`) and widens nothing.
 */
export function formatTable(rows: string[][]): string[] {
  const columns = Math.max(...rows.map((r) => r.length));
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      if (row.length === columns || i < row.length - 1)
        widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  return rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]))
      .join("  ")
      .trimEnd(),
  );
}

/** An ISO time as `2025-06-01 10:02:11Z`: to the second, in UTC, still sortable. */
export function shortTime(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}Z`;
}
