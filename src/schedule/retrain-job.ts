import path from 'node:path'
import type { LoadedConfig } from '../config/load-config.js'
import { buildDataset } from '../dataset/build-dataset.js'
import { tokenCounterForConfig } from '../dataset/config-token-counter.js'
import { exportTrainSplit } from '../dataset/export-dataset.js'
import { RagtuneError } from '../errors.js'
import { gateSettings } from '../eval/eval-config.js'
import { DATASET_SET_PREFIX, resolveEvalSet } from '../eval/eval-set-source.js'
import type { EvalSet } from '../eval/eval-set.js'
import type { GateDecision } from '../eval/gate.js'
import { addAdapter, requireAdapter } from '../registry/adapter-registry.js'
import { promoteAdapter } from '../registry/promote.js'
import { adapterChoice, evaluateChoice } from '../registry/serving.js'
import { BASE_ADAPTER, type AdapterRecord } from '../spec/adapter-registry.js'
import type { EmbeddingModel } from '../spec/embedding-model.js'
import type { EvalRunRecord } from '../spec/eval-run.js'
import type { Reranker } from '../spec/reranker.js'
import type { Store } from '../spec/store.js'
import { hasCheckpoint } from '../train/checkpoint.js'
import { parseTargets } from '../train/train-config.js'
import { trainLora } from '../train/train-lora.js'
import { generatorModelPath } from '../workspace.js'
import type { CronSchedule } from './cron.js'
import { countNewLabels } from './new-labels.js'
import type { JobContext, ScheduledJob } from './scheduled-job.js'

export interface RetrainJobOptions {
  loaded: LoadedConfig
  /** Absolute data folder: adapters are written to `<dataDir>/adapters/<name>`. */
  dataDir: string
  store: Store
  /** The retrieval models: the dataset and the eval retrieve exactly as inference does. */
  embedder: EmbeddingModel | undefined
  reranker: Reranker | undefined
  cron: CronSchedule | null
  /** Called after a promotion, so a running server swaps to the new adapter (LiveGenerator.refresh). */
  onPromoted?: (active: AdapterRecord) => Promise<void>
}

/**
 * `retrain`: when at least schedule.minNewLabels labeled examples arrived since the newest adapter's
 * dataset, build a dataset, train an adapter on its train split, register it as a candidate, evaluate
 * it and the active adapter (base before any promotion) on the dataset's held-out split, and promote
 * it only if the gate passes; otherwise it stays a candidate. Every step's product goes into the run's
 * detail as it appears, so a failure still says what exists. A rerun after a crash reuses the stored
 * dataset (same hash), resumes training from its checkpoint and reuses a registered adapter.
 */
export function retrainJob(opts: RetrainJobOptions): ScheduledJob {
  const { config } = opts.loaded
  return {
    name: 'retrain',
    cron: opts.cron,
    description: `when ${config.schedule.minNewLabels}+ new labeled examples exist: build a dataset, train, evaluate against the active adapter, promote if the gate passes`,
    run: (ctx) => retrain(opts, ctx),
  }
}

async function retrain(opts: RetrainJobOptions, ctx: JobContext): Promise<'ok' | 'skipped'> {
  const { loaded, store, dataDir } = opts
  const { config } = loaded
  if (config.generator.provider !== 'llama') {
    throw new RagtuneError('SCHEDULE_RETRAIN_UNSUPPORTED', `scheduled retraining trains a local GGUF with the CPU trainer; generator.provider is "${config.generator.provider}"`, {
      hint: 'set schedule.retrainCron to null and train on your GPU box with `ragtune train --backend python`, then `ragtune adapter add`',
    })
  }
  const labels = await countNewLabels(store)
  ctx.detail.newLabels = { ...labels, needed: config.schedule.minNewLabels }
  if (labels.count < config.schedule.minNewLabels) {
    ctx.log(`${labels.count} new labeled example(s) since ${labels.since ?? 'the start'}; retraining needs ${config.schedule.minNewLabels}`)
    return 'skipped'
  }

  const train = config.schedule.train
  const { counter } = await tokenCounterForConfig(loaded, dataDir)
  const built = await buildDataset({ store, embedder: opts.embedder, reranker: opts.reranker }, {
    retrieval: config.retrieval, rules: config.analyze, maxLength: train.maxLength ?? 2048, tokenCounter: counter,
    name: `scheduled-${new Date().toISOString().slice(0, 10)}`, signal: ctx.signal,
  }).finally(() => counter.dispose?.())
  const version = built.version
  ctx.detail.dataset = { id: version.id, hash: version.hash, train: version.counts.train, eval: version.counts.eval, existing: built.existing }
  ctx.log(`dataset ${version.id}: ${version.counts.train} train, ${version.counts.eval} held-out example(s)`)
  if (version.counts.eval === 0 || version.counts.train === 0) {
    throw new RagtuneError('DATASET_SPLIT_EMPTY', `expected train and held-out examples in dataset ${version.id}, got ${version.counts.train} train and ${version.counts.eval} held-out`, {
      hint: 'the gate needs held-out examples on documents the adapter was not trained on: label questions about more documents',
    })
  }

  const candidate = await trainAndRegister(opts, ctx, version.id)
  if (candidate.status === 'active') {
    // The labels came back to a dataset already trained and promoted (e.g. after a log prune).
    ctx.log(`"${candidate.name}", trained on this very dataset, is already active`)
    ctx.detail.promoted = false
    return 'skipped'
  }
  const set = await resolveEvalSet(`${DATASET_SET_PREFIX}${version.id}`, store)
  const incumbent = (await store.getActiveAdapter()) ?? (await requireAdapter(store, BASE_ADAPTER))
  const runs = { incumbent: await evaluate(opts, ctx, incumbent.name, set), candidate: await evaluate(opts, ctx, candidate.name, set) }
  ctx.detail.eval = { set: set.name, sha256: set.sha256, examples: set.examples.length, runs: { [incumbent.name]: runs.incumbent.id, [candidate.name]: runs.candidate.id } }

  let decision: GateDecision
  try {
    const result = await promoteAdapter(store, candidate.name, { ...gateSettings(config.eval), setSha256: set.sha256 })
    decision = result.decision!
  } catch (err) {
    if (!(err instanceof RagtuneError && err.code === 'GATE_REJECTED')) throw err
    decision = err.details.decision as GateDecision
    ctx.detail.gate = gateSummary(decision)
    ctx.detail.promoted = false
    ctx.log(`"${candidate.name}" stays a candidate: ${decision.reasons.join('; ')}`)
    return 'ok'
  }
  ctx.detail.gate = gateSummary(decision)
  ctx.detail.promoted = true
  ctx.log(`"${candidate.name}" beat "${incumbent.name}" and is now active`)
  const active = await requireAdapter(store, candidate.name)
  if (opts.onPromoted) await opts.onPromoted(active)
  return 'ok'
}

/** Trains into `<dataDir>/adapters/auto-<dataset id>` (resuming a crashed run) and registers it; reuses one already registered. */
async function trainAndRegister(opts: RetrainJobOptions, ctx: JobContext, datasetId: string): Promise<AdapterRecord> {
  const name = `auto-${datasetId.toLowerCase()}`
  const existing = await opts.store.getAdapter(name)
  if (existing) {
    ctx.detail.adapter = { name, id: existing.id, path: existing.filePath, reused: true }
    return existing
  }
  const out = path.join(opts.dataDir, 'adapters', name)
  const file = await exportTrainSplit(opts.store, datasetId, path.join(out, 'dataset'), ctx.signal)
  const base = await generatorModelPath(opts.loaded, opts.dataDir)
  const { targets, ...settings } = opts.loaded.config.schedule.train
  const resume = await hasCheckpoint(out)
  ctx.log(`training ${name}${resume ? ' (resuming)' : ''}`)
  const result = await trainLora({ ...settings, ...(targets ? { targets: parseTargets(targets) } : {}), dataset: file, base, out, resume, signal: ctx.signal })
  const { report } = result
  ctx.detail.training = { steps: report.steps, firstLoss: report.losses[0] ?? null, finalLoss: report.losses.at(-1) ?? null, seconds: Math.round(report.seconds), warnings: report.warnings.length }
  const record = await addAdapter(opts.store, {
    name, file: result.adapterPath, baseModelPath: base, datasetVersion: datasetId, trainingConfig: report.config as unknown as Record<string, unknown>, reason: 'scheduled retrain',
  })
  ctx.detail.adapter = { name, id: record.id, path: record.filePath, reused: false }
  return record
}

/** Answers the held-out set with one registry entry's generator and stores the run (as `ragtune eval run` does). */
async function evaluate(opts: RetrainJobOptions, ctx: JobContext, name: string, set: EvalSet): Promise<EvalRunRecord> {
  const choice = await adapterChoice(opts.loaded, opts.dataDir, opts.store, name)
  ctx.log(`evaluating ${name} on ${set.examples.length} held-out example(s)`)
  return evaluateChoice({ loaded: opts.loaded, choice, set, deps: { store: opts.store, embedder: opts.embedder, reranker: opts.reranker }, signal: ctx.signal })
}

function gateSummary(d: GateDecision): Record<string, unknown> {
  return { pass: d.pass, primary: d.primary, reasons: d.reasons }
}
