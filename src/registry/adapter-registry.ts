import { stat } from 'node:fs/promises'
import path from 'node:path'
import { readGgufFileInfo } from '../models/llama/lazy-llama.js'
import { RagtuneError } from '../errors.js'
import { checkAdapterFits, metadataValue } from '../models/llama/adapter-check.js'
import { fileId, fileSha256 } from '../models/llama/llama-runtime.js'
import { ulid } from '../observe/ulid.js'
import type { AdapterRecord } from '../spec/adapter-registry.js'
import type { Store } from '../spec/store.js'
import { unknownAdapter } from '../store/adapter-registry-sql.js'
import { checkAdapterName, registerCandidate, type CandidateLineage } from './candidate.js'

export interface AddAdapterInput extends CandidateLineage {
  /** The GGUF LoRA file (kept where it is; its sha256 is recorded). */
  file: string
  /** The base GGUF it must fit; when given, every LoRA tensor is checked against it. */
  baseModelPath?: string | null
}

/**
 * Registers a GGUF LoRA file as a candidate: `ragtune adapter add` and the trainer after a run both
 * call this. The file is checked (a LoRA GGUF, fitting the base model when one is named) before the
 * row exists, so the registry never lists an adapter that cannot load.
 */
export async function addAdapter(store: Store, input: AddAdapterInput): Promise<AdapterRecord> {
  checkAdapterName(input.name)
  const file = path.resolve(input.file)
  await requireFile(file)
  if (input.baseModelPath) await checkAdapterFits(await readGguf(input.baseModelPath), input.baseModelPath, file)
  else await requireLoraGguf(file)
  if (input.parent && !(await store.getAdapter(input.parent))) throw unknownAdapter(input.parent)
  const sha = await fileSha256(file)
  return registerCandidate(store, input, sha, {
    filePath: file,
    fileSha256: sha,
    baseModel: input.baseModelPath ? await fileId(input.baseModelPath) : null,
    baseModelSha256: input.baseModelPath ? await fileSha256(input.baseModelPath) : null,
  }, { file, sha256: sha })
}

/** Removes a candidate or retired adapter's row (never its file); the history keeps its events. */
export async function removeAdapter(store: Store, name: string, opts: { reason?: string | null } = {}): Promise<void> {
  await store.removeAdapter(name, { id: ulid(), time: new Date().toISOString(), action: 'remove', adapter: name, previous: null, forced: false, reason: opts.reason ?? null, detail: null })
}

/** The record, or ADAPTER_UNKNOWN with a hint. */
export async function requireAdapter(store: Store, name: string): Promise<AdapterRecord> {
  const record = await store.getAdapter(name)
  if (!record) throw unknownAdapter(name)
  return record
}

/**
 * Refuses an adapter whose file is gone or no longer has the registered hash: its eval results
 * describe other weights, so serving it would serve something nobody evaluated.
 */
export async function verifyAdapterFile(record: AdapterRecord): Promise<void> {
  if (record.filePath === null) return
  await requireFile(record.filePath)
  const sha = await fileSha256(record.filePath)
  if (sha !== record.fileSha256) {
    throw new RagtuneError('ADAPTER_CHANGED', `the file of adapter "${record.name}" (${record.filePath}) changed since it was registered: sha256 ${sha.slice(0, 12)}…, registered ${record.fileSha256?.slice(0, 12)}…`, {
      details: { name: record.name, file: record.filePath, expected: record.fileSha256, got: sha },
      hint: 'put the registered file back, or register the new file under a new name (and evaluate it) with `ragtune adapter add`',
    })
  }
}

async function requireFile(file: string): Promise<void> {
  const info = await stat(file).catch(() => null)
  if (!info?.isFile()) {
    throw new RagtuneError('ADAPTER_FILE_NOT_FOUND', `no adapter file at ${file}`, {
      details: { file },
      hint: 'pass the path of a GGUF LoRA file (the trainer writes one; llama.cpp\'s convert_lora_to_gguf.py converts PEFT adapters)',
    })
  }
}

async function readGguf(file: string) {
  try {
    return await readGgufFileInfo(file, { logWarnings: false })
  } catch (err) {
    throw new RagtuneError('MODEL_NOT_FOUND', `cannot read GGUF ${file}: ${(err as Error).message}`, { details: { file }, hint: 'check the base model path (generator.model)' })
  }
}

/** Without a base model at hand, at least the file must be a LoRA GGUF. */
async function requireLoraGguf(file: string): Promise<void> {
  const info = await readGguf(file).catch(() => null)
  const type = info ? metadataValue(info, 'general.type') : undefined
  const adapterType = info ? metadataValue(info, 'adapter.type') : undefined
  if (type !== 'adapter' || adapterType !== 'lora') {
    throw new RagtuneError('ADAPTER_MISMATCH', `${file} is not a GGUF LoRA adapter (general.type ${String(type)}, adapter.type ${String(adapterType)})`, {
      details: { file },
      hint: 'convert PEFT adapters with llama.cpp\'s convert_lora_to_gguf.py, or use the GGUF the trainer wrote',
    })
  }
}
