import type { Command } from 'commander'
import { loadConfig, type LoadedConfig } from '../config/load-config.js'
import type { RagtuneConfigInput } from '../config/schema.js'
import { RagtuneError } from '../errors.js'

/** Options every command takes (declared once on the root program). */
export interface GlobalOptions {
  config?: string
  dataDir?: string
  offline?: boolean
}

/** Loads the config named by the global options, with command-line overrides on top. */
export async function configFromCli(cmd: Command, overrides: RagtuneConfigInput = {}): Promise<LoadedConfig> {
  const g = cmd.optsWithGlobals<GlobalOptions>()
  const fromFlags: RagtuneConfigInput = {
    ...(g.dataDir ? { dataDir: g.dataDir } : {}),
    ...(g.offline ? { models: { offline: true } } : {}),
  }
  return loadConfig({ ...(g.config ? { file: g.config } : {}), overrides: merge(fromFlags, overrides) })
}

function merge(a: RagtuneConfigInput, b: RagtuneConfigInput): RagtuneConfigInput {
  return { ...a, ...b, models: a.models || b.models ? { ...a.models, ...b.models } : undefined } as RagtuneConfigInput
}

/** Parses a positive integer flag or fails with the flag's name. */
export function intOption(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < 1) throw new RagtuneError('USAGE', `${name} expects a positive whole number, got "${value}"`)
    return n
  }
}

/** Machine output for `--json`: one JSON document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

/** Pads columns for a plain-text table. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n')
}

/** Aborts long work on Ctrl-C; a second Ctrl-C exits at once. */
export function interruptSignal(): AbortSignal {
  const ctrl = new AbortController()
  process.once('SIGINT', () => {
    process.stderr.write('\ninterrupted: finishing the current step (Ctrl-C again to quit now)\n')
    ctrl.abort(new Error('interrupted'))
    process.once('SIGINT', () => process.exit(130))
  })
  return ctrl.signal
}
