import { RagtuneError } from '../../errors.js'
import { loadBeir } from './beir.js'
import { loadPubmedqa } from './pubmedqa.js'
import type { DatasetFormat, LoadDatasetOptions, RetrievalDataset } from './retrieval-dataset.js'
import { loadSquad } from './squad.js'

/** The accepted `--format` values, for CLI help and validation. */
export const DATASET_FORMATS: readonly DatasetFormat[] = ['squad', 'pubmedqa', 'beir']

/**
 * One entry point for the CLI and the eval runner: the format is named explicitly rather than
 * sniffed, because a wrong guess would produce a valid-looking dataset with meaningless scores.
 * Each source file is read once; bad records throw DATASET_INVALID naming file, record and field.
 */
export async function loadRetrievalDataset(path: string, format: DatasetFormat, opts: LoadDatasetOptions = {}): Promise<RetrievalDataset> {
  switch (format) {
    case 'squad':
      return loadSquad(path, { signal: opts.signal })
    case 'pubmedqa':
      return loadPubmedqa(path, opts)
    case 'beir':
      return loadBeir(path, { split: opts.split, signal: opts.signal })
    default:
      throw new RagtuneError('DATASET_FORMAT_UNKNOWN', `unknown dataset format "${String(format)}"`, {
        details: { format },
        hint: `use one of: ${DATASET_FORMATS.join(', ')}`,
      })
  }
}
