/** Every knob a benchmark reads, so the JSON records exactly what a run was configured with. */
const used: Record<string, string | number> = {}

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name]
  const value = raw === undefined || raw === '' ? fallback : Number(raw)
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`)
  used[name] = value
  return value
}

export function envString(name: string, fallback: string): string {
  const value = process.env[name] || fallback
  used[name] = value
  return value
}

export function envUsed(): Record<string, string | number> {
  return { ...used }
}
