import path from 'node:path'
import type { LoadedConfig } from '../config/load-config.js'
import { RagtuneError } from '../errors.js'
import { requireApiKey } from '../hosted/hosted-errors.js'
import { addRemoteAdapter } from '../registry/remote-adapter.js'
import { DEFAULT_OPENAI_BASE_MODEL, runOpenAIFineTune, type OpenAIFineTuneResult } from '../train/openai/openai-finetune.js'
import type { TrainEvent } from '../train/train-report.js'
import { openWorkspace } from '../workspace.js'
import { printJson } from './common.js'

/** The `ragtune train` flags the OpenAI backend reads. */
export interface OpenAITrainFlags {
  out: string
  resume?: boolean
  epochs?: number
  batchSize?: number
  seed?: string
  json?: boolean
  register?: boolean
  openaiModel?: string
  openaiBaseUrl?: string
  lrMultiplier?: string
  suffix?: string
  pollSeconds?: string
  /** Flags of the local trainers, which OpenAI does not take: named in a warning instead of silently dropped. */
  ignored: string[]
}

/**
 * `ragtune train --backend openai`: the dataset (already resolved: a file, or a stored version
 * exported as chat JSONL) is fine-tuned on OpenAI's platform, followed in the same progress bar,
 * and with --register added to the registry as a remote adapter (served by the openai generator
 * by its model id), so eval, the gate and promotion work as for a local adapter.
 */
export async function trainWithOpenAI(
  loaded: LoadedConfig,
  flags: OpenAITrainFlags,
  data: { file: string; version: string | null },
  progress: { onEvent: (e: TrainEvent) => void; stop: () => void },
  signal: AbortSignal,
): Promise<void> {
  const keyEnv = loaded.config.generator.apiKeyEnv
  const apiKey = requireApiKey({ service: 'OpenAI', keyEnv })
  for (const flag of flags.ignored) progress.onEvent({ type: 'log', message: `warning: ${flag} does not apply to --backend openai (OpenAI chooses the LoRA setup); ignored` })
  const result = await runOpenAIFineTune({
    dataset: data.file,
    out: path.resolve(flags.out),
    apiKey,
    apiKeyEnv: keyEnv,
    baseURL: flags.openaiBaseUrl ?? 'https://api.openai.com/v1',
    baseModel: flags.openaiModel ?? DEFAULT_OPENAI_BASE_MODEL,
    resume: !!flags.resume,
    ...(flags.epochs ? { epochs: flags.epochs } : {}),
    ...(flags.batchSize ? { batchSize: flags.batchSize } : {}),
    ...(flags.lrMultiplier ? { learningRateMultiplier: positive('--lr-multiplier', flags.lrMultiplier) } : {}),
    ...(flags.seed !== undefined ? { seed: seedFlag(flags.seed) } : {}),
    ...(flags.suffix ? { suffix: flags.suffix } : {}),
    ...(flags.pollSeconds ? { pollMs: positive('--poll-seconds', flags.pollSeconds) * 1000 } : {}),
    signal,
    onEvent: progress.onEvent,
  })
  progress.stop()
  const registered = flags.register ? await register(loaded, flags.out, result, data.version) : null
  if (flags.json) {
    printJson({ ...result, registered })
    return
  }
  process.stdout.write(`fine-tuned model ${result.fineTunedModel} (job ${result.jobId}, ${result.trainedTokens ?? '?'} tokens)\nreport: ${result.reportPath}\n`)
  if (registered) {
    process.stdout.write(`registered as candidate ${registered}; it is served with generator.provider "openai", generator.baseURL https://api.openai.com/v1 and generator.model ${result.baseModel}\n`)
  }
  for (const w of result.warnings) process.stdout.write(`warning: ${w}\n`)
}

/** A re-run with --resume --register after a registration that already happened is not an error. */
async function register(loaded: LoadedConfig, out: string, r: OpenAIFineTuneResult, datasetVersion: string | null): Promise<string> {
  const name = path.basename(path.resolve(out))
  const ws = await openWorkspace(loaded, { embedder: false }).catch((cause: unknown) => {
    throw new RagtuneError('REGISTER_FAILED', `OpenAI fine-tuned ${r.fineTunedModel}, but the registry could not be opened: ${(cause as Error).message}`, {
      cause,
      hint: `run the same command again with --resume --register from your ragtune project folder (it attaches to job ${r.jobId})`,
    })
  })
  try {
    const existing = await ws.store.getAdapter(name)
    if (existing?.remoteModel === r.fineTunedModel) return existing.id!
    const record = await addRemoteAdapter(ws.store, {
      name,
      remoteModel: r.fineTunedModel,
      baseModel: r.baseModel,
      datasetVersion,
      trainingConfig: { backend: 'openai', jobId: r.jobId, hyperparameters: r.hyperparameters, trainedTokens: r.trainedTokens, examples: r.examples },
      detail: { jobId: r.jobId, trainingFile: r.trainingFileId },
    })
    return record.id!
  } finally {
    await ws.close()
  }
}

function positive(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new RagtuneError('USAGE', `${flag} expects a positive number, got "${value}"`)
  return n
}

function seedFlag(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new RagtuneError('USAGE', `--seed expects a whole number, got "${value}"`)
  return n
}
