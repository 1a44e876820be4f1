import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { envUsed } from './env.js'

/** bench/ itself, wherever the repository is checked out. */
export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')
/** Generated models and corpora; deterministic, rebuilt as needed, git-ignored. */
export const CACHE_DIR = join(BENCH_DIR, '.cache')
export const RESULTS_DIR = join(BENCH_DIR, 'results')

export interface MachineInfo {
  cpu: string
  cores: number
  memoryGiB: number
  node: string
  platform: string
  arch: string
}

export function machineInfo(): MachineInfo {
  const list = cpus()
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
  }
}

/** What each benchmark returns: its numbers, the goals it checked, and what a reader must know. */
export interface BenchResult {
  /** Every measured number, nested as the benchmark likes. */
  data: Record<string, unknown>
  goals: Array<{ goal: string; value: number; target: string; met: boolean }>
  notes: string[]
}

/** Writes bench/results/<name>.json with the machine, the date, the env knobs and every number. */
export async function writeResult(name: string, result: BenchResult, run: { durationMs: number; foreignLoadPct: number }): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true })
  const file = join(RESULTS_DIR, `${name}.json`)
  const body = { benchmark: name, date: new Date().toISOString(), machine: machineInfo(), env: envUsed(), ...run, ...result }
  await writeFile(file, `${JSON.stringify(body, null, 2)}\n`)
  return file
}
