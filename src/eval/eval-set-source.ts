import { RagtuneError } from '../errors.js'
import type { Store } from '../spec/store.js'
import { datasetNotFound } from '../store/dataset-sql.js'
import { evalSetFromRecords, loadEvalSet, type EvalSet } from './eval-set.js'

/** `--set dataset:<id>`: the eval split of a dataset version the builder stored (held out by evidence). */
export const DATASET_SET_PREFIX = 'dataset:'

/**
 * Resolves what `--set` names: `dataset:<id>` reads the held-out split of a stored dataset version
 * (so the gate judges on exactly the examples the trainer never saw), anything else is a JSONL file.
 */
export async function resolveEvalSet(ref: string, store: Store): Promise<EvalSet> {
  if (!ref.startsWith(DATASET_SET_PREFIX)) return loadEvalSet(ref)
  const id = ref.slice(DATASET_SET_PREFIX.length)
  const version = await store.getDataset({ id })
  if (!version) throw datasetNotFound(id)
  const records = await store.listDatasetRecords(id, 'eval')
  if (records.length === 0) {
    throw new RagtuneError('EVAL_SET_EMPTY', `dataset ${id} holds no eval records`, { hint: 'build the dataset with a non-zero --eval-fraction, or pass a JSONL file' })
  }
  return evalSetFromRecords(records, `${version.name ?? id}-eval`)
}
