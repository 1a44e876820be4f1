import { RagtuneError } from '../errors.js'
import type { EvalRunRecord } from '../spec/eval-run.js'
import type { Store } from '../spec/store.js'
import { compareRuns, type CompareOptions, type Comparison } from './compare.js'

/**
 * Finds stored eval runs by what people type: a run id, or an adapter name meaning its newest run
 * (on one set when `setSha256` is given).
 */
export async function findRun(store: Store, ref: string, opts: { setSha256?: string } = {}): Promise<EvalRunRecord> {
  const byId = await store.getEvalRun(ref)
  if (byId) return byId
  const [newest] = await store.listEvalRuns({ adapter: ref, ...(opts.setSha256 ? { setSha256: opts.setSha256 } : {}), limit: 1 })
  if (newest) return newest
  throw new RagtuneError('EVAL_RUN_NOT_FOUND', `no eval run has id "${ref}", and adapter "${ref}" has no eval run${opts.setSha256 ? ' on that set' : ''}`, {
    details: { ref },
    hint: `run one with \`ragtune eval run --adapter ${ref} --set <file>\`, or list runs with \`ragtune eval runs\``,
  })
}

/** One side of a gate comparison: a registry name and the provenance id its runs must carry. */
export interface RunSide {
  adapter: string
  /** Null for base; runs of an adapter whose file changed since carry another id and do not count. */
  adapterId: string | null
}

/**
 * The newest pair of runs, one per side, on the same eval set (the given one, else the newest set
 * the candidate was run on that the other side was run on too). Null when there is none.
 */
export async function findPairedRuns(store: Store, a: RunSide, b: RunSide, opts: { setSha256?: string } = {}): Promise<[EvalRunRecord, EvalRunRecord] | null> {
  const filter = opts.setSha256 ? { setSha256: opts.setSha256 } : {}
  const current = (side: RunSide) => (r: EvalRunRecord) => r.adapterId === side.adapterId
  const runsB = (await store.listEvalRuns({ adapter: b.adapter, ...filter, limit: 100 })).filter(current(b))
  const runsA = (await store.listEvalRuns({ adapter: a.adapter, ...filter, limit: 100 })).filter(current(a))
  for (const rb of runsB) {
    const ra = runsA.find((r) => r.setSha256 === rb.setSha256)
    if (ra) return [ra, rb]
  }
  return null
}

/** Loads both runs' per-example results and compares them (B against A). */
export async function compareStoredRuns(store: Store, a: EvalRunRecord, b: EvalRunRecord, opts: Partial<CompareOptions> = {}): Promise<Comparison> {
  const [ra, rb] = await Promise.all([store.listEvalResults(a.id), store.listEvalResults(b.id)])
  return compareRuns({ run: a, results: ra }, { run: b, results: rb }, opts)
}
