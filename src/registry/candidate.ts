import { RagtuneError } from '../errors.js'
import { ulid } from '../observe/ulid.js'
import { BASE_ADAPTER, type AdapterRecord } from '../spec/adapter-registry.js'
import type { Store } from '../spec/store.js'
import { ADAPTER_NAME } from '../store/adapter-registry-sql.js'

/** What every registration says about an adapter besides where its weights are: file and remote adapters alike. */
export interface CandidateLineage {
  /** Registry name: 1-64 letters, digits, `.`, `_`, `-`; not `base`. */
  name: string
  datasetVersion?: string | null
  trainingConfig?: Record<string, unknown> | null
  /** A registered adapter this one continues from. */
  parent?: string | null
  /** Why it was added (shown in the history). */
  reason?: string | null
}

/** Where the weights are: a hashed file, or a model a hosted platform serves. */
export type CandidateWeights = Pick<AdapterRecord, 'filePath' | 'fileSha256' | 'remoteModel' | 'baseModel' | 'baseModelSha256'>

/** USAGE unless `name` is one the registry can hold. */
export function checkAdapterName(name: string): void {
  if (!ADAPTER_NAME.test(name) || name === BASE_ADAPTER) {
    throw new RagtuneError('USAGE', `adapter names are 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit, and not "${BASE_ADAPTER}"; got "${name}"`)
  }
}

/**
 * Writes a checked adapter as a `candidate` row, with its `add` event in the history. Its provenance
 * id is `<name>@<first 12 hex digits of sha256>`: `sha256` hashes what identifies the weights (the
 * file, or the remote model id), so different weights never share an id with the ones evaluated.
 */
export async function registerCandidate(
  store: Store,
  lineage: CandidateLineage,
  sha256: string,
  weights: CandidateWeights,
  detail: Record<string, unknown>,
): Promise<AdapterRecord> {
  const now = new Date().toISOString()
  const record: AdapterRecord = {
    name: lineage.name,
    id: `${lineage.name}@${sha256.slice(0, 12)}`,
    ...weights,
    datasetVersion: lineage.datasetVersion ?? null,
    trainingConfig: lineage.trainingConfig ?? null,
    parent: lineage.parent ?? null,
    status: 'candidate',
    createdAt: now,
    activatedAt: null,
  }
  await store.addAdapter(record, {
    id: ulid(), time: now, action: 'add', adapter: lineage.name, previous: null, forced: false, reason: lineage.reason ?? null, detail,
  })
  return record
}
