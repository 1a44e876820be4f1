/** Fixed-width text tables and number formats shared by every benchmark's console output. */

export function printTable(title: string, header: string[], rows: Array<Array<string | number>>): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))]
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  process.stdout.write(`\n${title}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`)
  for (const r of cells.slice(1)) process.stdout.write(`${line(r)}\n`)
}

/** Three significant digits, no exponent: 0.0123, 1.23, 123, 12345. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n)
  if (Number.isInteger(n)) return String(n)
  const abs = Math.abs(n)
  if (abs >= 100) return n.toFixed(0)
  if (abs >= 10) return n.toFixed(1)
  if (abs >= 1) return n.toFixed(2)
  return n.toPrecision(3)
}

/** `part` as a percentage of `whole`. */
export function pct(part: number, whole: number): number {
  return (100 * part) / whole
}

/** Progress and notes go to stderr so stdout holds only the tables. */
export function note(message: string): void {
  process.stderr.write(`[bench] ${message}\n`)
}
