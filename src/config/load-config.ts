import { readFile, writeFile, access } from 'node:fs/promises'
import path from 'node:path'
import type { z } from 'zod'
import { RagtuneError } from '../errors.js'
import { configSchema, type RagtuneConfig, type RagtuneConfigInput } from './schema.js'

export const CONFIG_FILE = 'ragtune.config.json'

/** A resolved config plus where it came from, so relative paths resolve against the config's folder. */
export interface LoadedConfig {
  config: RagtuneConfig
  /** Folder relative paths in the config are resolved against. */
  baseDir: string
  /** The file read, or null when defaults were used. */
  file: string | null
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)'
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (where === '(top level)' ? k : `${where}.${k}`))
    return `unknown key ${keys.map((k) => `"${k}"`).join(', ')}`
  }
  if (issue.code === 'invalid_type') return `"${where}": expected ${issue.expected}, got ${describeValue(issue.input)}`
  if (issue.code === 'invalid_value') return `"${where}": expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(issue.input)}`
  return `"${where}": ${issue.message}`
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing'
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return `${typeof v} ${JSON.stringify(v)?.slice(0, 40) ?? ''}`.trim()
}

/** Validates a config object; every problem is named by its key path and the expected type. */
export function parseConfig(input: unknown, source = 'config'): RagtuneConfig {
  const res = configSchema.safeParse(input ?? {}, { reportInput: true })
  if (res.success) return res.data
  const problems = res.error.issues.map(describeIssue)
  throw new RagtuneError('CONFIG_INVALID', `${source} is invalid:\n  - ${problems.join('\n  - ')}`, {
    details: { problems },
    hint: `edit ${source}; \`ragtune init --force\` writes a fresh one with every key and its default`,
  })
}

/**
 * Reads `ragtune.config.json` from `cwd` (or the `--config` path). A missing default file is not an
 * error: defaults apply, so `ragtune index docs/` works without `init`.
 */
export async function loadConfig(opts: { cwd?: string; file?: string; overrides?: RagtuneConfigInput } = {}): Promise<LoadedConfig> {
  const cwd = opts.cwd ?? process.cwd()
  const file = opts.file ? path.resolve(cwd, opts.file) : path.join(cwd, CONFIG_FILE)
  let raw: unknown = {}
  let found = true
  try {
    const text = await readFile(file, 'utf8')
    try {
      raw = JSON.parse(text)
    } catch (err) {
      throw new RagtuneError('CONFIG_INVALID', `${file} is not valid JSON: ${(err as Error).message}`, { hint: 'fix the JSON syntax' })
    }
  } catch (err) {
    if (err instanceof RagtuneError) throw err
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || opts.file) {
      throw new RagtuneError('CONFIG_UNREADABLE', `cannot read config ${file}: ${(err as Error).message}`, { cause: err })
    }
    found = false
  }
  const merged = mergeDeep(raw, opts.overrides ?? {})
  return { config: parseConfig(merged, found ? file : 'config'), baseDir: found ? path.dirname(file) : cwd, file: found ? file : null }
}

function mergeDeep(a: unknown, b: unknown): unknown {
  if (!isPlainObject(a) || !isPlainObject(b)) return b === undefined ? a : b
  const out: Record<string, unknown> = { ...a }
  for (const [k, v] of Object.entries(b)) if (v !== undefined) out[k] = mergeDeep(a[k], v)
  return out
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Writes a config holding every key with its default, so users see what can be set. */
export async function writeDefaultConfig(dir: string, opts: { force?: boolean; overrides?: RagtuneConfigInput } = {}): Promise<string> {
  const file = path.join(dir, CONFIG_FILE)
  if (!opts.force) {
    const exists = await access(file).then(() => true, () => false)
    if (exists) throw new RagtuneError('CONFIG_EXISTS', `${file} already exists`, { hint: 'pass --force to overwrite it' })
  }
  const config = parseConfig(mergeDeep({}, opts.overrides ?? {}))
  await writeFile(file, JSON.stringify(config, null, 2) + '\n', 'utf8')
  return file
}

/** Resolves a config path (dataDir, docs.root) against the config's folder. */
export function resolvePath(loaded: LoadedConfig, p: string): string {
  return path.resolve(loaded.baseDir, p)
}
