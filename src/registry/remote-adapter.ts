import { createHash } from 'node:crypto'
import { RagtuneError } from '../errors.js'
import { ulid } from '../observe/ulid.js'
import { BASE_ADAPTER, type AdapterRecord } from '../spec/adapter-registry.js'
import type { Store } from '../spec/store.js'
import { ADAPTER_NAME, unknownAdapter } from '../store/adapter-registry-sql.js'

export interface AddRemoteAdapterInput {
  /** Registry name: 1-64 letters, digits, `.`, `_`, `-`; not `base`. */
  name: string
  /** The model id the platform serves, e.g. `ft:gpt-4o-mini-2024-07-18:my-org::9sXkBlCz`. */
  remoteModel: string
  /** The platform's base model it was tuned from (e.g. gpt-4o-mini-2024-07-18). */
  baseModel: string
  datasetVersion?: string | null
  trainingConfig?: Record<string, unknown> | null
  parent?: string | null
  reason?: string | null
  /** Recorded in the add event (e.g. the fine-tuning job id), so the history says where it came from. */
  detail?: Record<string, unknown>
}

/**
 * Registers a model a hosted platform fine-tuned (OpenAI) as a candidate adapter. There is no file
 * to hash, so its provenance id hashes the model id: a different fine-tune never shares an id with
 * the one that was evaluated. It is evaluated, gated, promoted and rolled back like a file adapter;
 * the openai generator serves it by sending requests to `remoteModel`.
 */
export async function addRemoteAdapter(store: Store, input: AddRemoteAdapterInput): Promise<AdapterRecord> {
  if (!ADAPTER_NAME.test(input.name) || input.name === BASE_ADAPTER) {
    throw new RagtuneError('USAGE', `adapter names are 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit, and not "${BASE_ADAPTER}"; got "${input.name}"`)
  }
  if (input.remoteModel.trim() === '') throw new RagtuneError('USAGE', 'expected the fine-tuned model id (e.g. ft:gpt-4o-mini-2024-07-18:org::abc), got an empty string')
  if (input.parent && !(await store.getAdapter(input.parent))) throw unknownAdapter(input.parent)
  const now = new Date().toISOString()
  const record: AdapterRecord = {
    name: input.name,
    id: `${input.name}@${createHash('sha256').update(input.remoteModel).digest('hex').slice(0, 12)}`,
    filePath: null,
    fileSha256: null,
    remoteModel: input.remoteModel,
    baseModel: input.baseModel,
    baseModelSha256: null,
    datasetVersion: input.datasetVersion ?? null,
    trainingConfig: input.trainingConfig ?? null,
    parent: input.parent ?? null,
    status: 'candidate',
    createdAt: now,
    activatedAt: null,
  }
  await store.addAdapter(record, {
    id: ulid(), time: now, action: 'add', adapter: input.name, previous: null, forced: false, reason: input.reason ?? null, detail: { remoteModel: input.remoteModel, ...input.detail },
  })
  return record
}
