import { createHash } from 'node:crypto'
import { RagtuneError } from '../errors.js'
import type { AdapterRecord } from '../spec/adapter-registry.js'
import type { Store } from '../spec/store.js'
import { unknownAdapter } from '../store/adapter-registry-sql.js'
import { checkAdapterName, registerCandidate, type CandidateLineage } from './candidate.js'

export interface AddRemoteAdapterInput extends CandidateLineage {
  /** The model id the platform serves, e.g. `ft:gpt-4o-mini-2024-07-18:my-org::9sXkBlCz`. */
  remoteModel: string
  /** The platform's base model it was tuned from (e.g. gpt-4o-mini-2024-07-18). */
  baseModel: string
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
  checkAdapterName(input.name)
  if (input.remoteModel.trim() === '') throw new RagtuneError('USAGE', 'expected the fine-tuned model id (e.g. ft:gpt-4o-mini-2024-07-18:org::abc), got an empty string')
  if (input.parent && !(await store.getAdapter(input.parent))) throw unknownAdapter(input.parent)
  return registerCandidate(store, input, createHash('sha256').update(input.remoteModel).digest('hex'), {
    filePath: null,
    fileSha256: null,
    remoteModel: input.remoteModel,
    baseModel: input.baseModel,
    baseModelSha256: null,
  }, { remoteModel: input.remoteModel, ...input.detail })
}
