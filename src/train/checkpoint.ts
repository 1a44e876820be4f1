import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RagtuneError } from '../errors.js'
import type { Param } from './engine/llama-train-model.js'
import type { AdamWState } from './optim/adamw.js'

/**
 * Training checkpoints: the trainable params, AdamW's moments and the step, written to a staging
 * folder and renamed into place, so a SIGKILL at any moment leaves either the previous checkpoint
 * or the new one. Everything else (data order, dropout masks, learning rate) is a function of the
 * seed and the step, so these bytes are all `--resume` needs to reach the uninterrupted weights.
 */

export interface CheckpointState {
  step: number
  /** Hash of base model, dataset and settings: resuming with any of them changed is refused. */
  runHash: string
  losses: number[]
  tokensSeen: number
  paramNames: string[]
}

const DIR = 'checkpoints'
const stepDir = (step: number): string => `step-${String(step).padStart(7, '0')}`

/** Writes a checkpoint and keeps only the newest `keep`. */
export async function saveCheckpoint(out: string, state: CheckpointState, params: readonly Param[], adam: AdamWState, keep = 2): Promise<string> {
  const root = join(out, DIR)
  await mkdir(root, { recursive: true })
  const final = join(root, stepDir(state.step))
  const staging = `${final}.tmp-${process.pid}`
  await rm(staging, { recursive: true, force: true })
  await mkdir(staging)
  const arrays = [...params.map((p) => p.value), ...adam.m, ...adam.v]
  const bytes = Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)))
  await writeFile(join(staging, 'tensors.bin'), bytes)
  await writeFile(join(staging, 'state.json'), JSON.stringify({ ...state, adamStep: adam.step, bytes: bytes.byteLength }))
  await rm(final, { recursive: true, force: true })
  await rename(staging, final)
  const all = await listCheckpoints(out)
  for (const old of all.slice(0, Math.max(0, all.length - keep))) await rm(join(root, old), { recursive: true, force: true })
  return final
}

async function listCheckpoints(out: string): Promise<string[]> {
  try {
    return (await readdir(join(out, DIR))).filter((n) => /^step-\d{7}$/.test(n)).sort()
  } catch {
    return []
  }
}

export async function hasCheckpoint(out: string): Promise<boolean> {
  return (await listCheckpoints(out)).length > 0
}

/**
 * Restores the newest checkpoint into `params` and `adam`; null when there is none. Throws when
 * the run it belongs to differs (other base, data or settings).
 */
export async function loadCheckpoint(out: string, runHash: string, params: readonly Param[], adam: AdamWState): Promise<CheckpointState | null> {
  const newest = (await listCheckpoints(out)).at(-1)
  if (!newest) return null
  const dir = join(out, DIR, newest)
  const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as CheckpointState & { adamStep: number; bytes: number }
  if (state.runHash !== runHash) {
    throw new RagtuneError('CHECKPOINT_MISMATCH', `the checkpoint in ${dir} belongs to another run (different base model, dataset or settings)`, {
      details: { dir, expected: runHash, found: state.runHash },
      hint: 'resume with the same --base, --dataset and options, or train into a new --out folder',
    })
  }
  const names = params.map((p) => p.name)
  if (state.paramNames.join('\n') !== names.join('\n')) {
    throw new RagtuneError('CHECKPOINT_MISMATCH', `the checkpoint in ${dir} holds other parameters than this run trains`, { details: { dir } })
  }
  const buf = await readFile(join(dir, 'tensors.bin'))
  const arrays = [...params.map((p) => p.value), ...adam.m, ...adam.v]
  const expected = arrays.reduce((s, a) => s + a.byteLength, 0)
  if (buf.byteLength !== expected) throw new RagtuneError('CHECKPOINT_CORRUPT', `${dir}/tensors.bin has ${buf.byteLength} bytes, expected ${expected}`, { details: { dir } })
  let at = 0
  for (const a of arrays) {
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength).set(buf.subarray(at, at + a.byteLength))
    at += a.byteLength
  }
  adam.step = state.adamStep
  return state
}

export async function removeCheckpoints(out: string): Promise<void> {
  await rm(join(out, DIR), { recursive: true, force: true })
}
