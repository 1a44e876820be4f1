import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import OpenAI, { toFile } from 'openai'
import { RagtuneError } from '../../errors.js'
import { abortableSleep, callHosted, type HostedCallOptions, type RetryPolicy } from '../../hosted/hosted-call.js'
import type { ServiceInfo } from '../../hosted/hosted-errors.js'
import { hostedFetch } from '../../hosted/hosted-fetch.js'
import type { TrainEvent } from '../train-report.js'
import { newEvents, toTrainEvent } from './openai-job-events.js'
import { readJobState, STATE_FILE, writeJobState, type OpenAIJobState } from './openai-job-state.js'
import { writeOpenAITrainingFile } from './openai-training-file.js'

/** The guide's low-maintenance option: a small model OpenAI fine-tunes cheaply. */
export const DEFAULT_OPENAI_BASE_MODEL = 'gpt-4o-mini-2024-07-18'

export interface OpenAIFineTuneOptions {
  /** Training JSONL in any shape the trainer reads; validated and rewritten as OpenAI chat JSONL. */
  dataset: string
  /** Output folder: the upload file, the job state (for --resume) and training-report.json. */
  out: string
  apiKey: string
  /** Named when the key is refused. */
  apiKeyEnv?: string
  /** Default https://api.openai.com/v1. */
  baseURL?: string
  /** Default gpt-4o-mini-2024-07-18. */
  baseModel?: string
  /** Attach to the job recorded in `out` instead of refusing to start a second one. */
  resume?: boolean
  /** Up to 64 characters OpenAI puts into the fine-tuned model's name. */
  suffix?: string
  /** Left to OpenAI ("auto") unless given. */
  epochs?: number
  batchSize?: number
  learningRateMultiplier?: number
  seed?: number
  /** How often the job is polled (default 15 s). */
  pollMs?: number
  signal?: AbortSignal
  onEvent?: (e: TrainEvent) => void
  policy?: Partial<RetryPolicy>
  sleep?: HostedCallOptions['sleep']
}

export interface OpenAIFineTuneResult {
  jobId: string
  /** What the generator sends requests to, e.g. ft:gpt-4o-mini-2024-07-18:my-org::9sXkBlCz. */
  fineTunedModel: string
  baseModel: string
  trainingFileId: string
  trainedTokens: number | null
  hyperparameters: Record<string, unknown>
  /** Training loss of every metrics event seen, in step order. */
  losses: number[]
  examples: number
  reportPath: string
  warnings: string[]
}

type Job = OpenAI.FineTuning.FineTuningJob
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled'])

/**
 * Fine-tunes on OpenAI's platform: validate and upload the data, create the job (or, with `resume`,
 * attach to the one recorded in `out`), follow its events as TrainEvents, return the model id. The
 * job id is saved before anything else happens, and creation first looks for a job already made
 * from the same upload, so no retry, crash or re-run pays for a second job. Aborting stops following,
 * never the job: it keeps training and `resume` attaches again.
 */
export async function runOpenAIFineTune(opts: OpenAIFineTuneOptions): Promise<OpenAIFineTuneResult> {
  const out = path.resolve(opts.out)
  const baseModel = opts.baseModel ?? DEFAULT_OPENAI_BASE_MODEL
  const emit = opts.onEvent ?? (() => {})
  const info: ServiceInfo = { service: 'OpenAI', endpoint: opts.baseURL ?? 'https://api.openai.com/v1', ...(opts.apiKeyEnv ? { keyEnv: opts.apiKeyEnv } : {}) }
  const client = new OpenAI({ apiKey: opts.apiKey, baseURL: info.endpoint, fetch: hostedFetch, maxRetries: 0, timeout: opts.policy?.timeoutMs ?? 120_000 })
  const call = <T>(operation: string, fn: (signal: AbortSignal) => Promise<T>, policy: Partial<RetryPolicy> = {}): Promise<T> =>
    callHosted({ service: info, operation, policy: { ...opts.policy, ...policy }, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.sleep ? { sleep: opts.sleep } : {}) }, fn)

  let state = await readJobState(out)
  if (state && !opts.resume) {
    throw new RagtuneError('TRAIN_OUT_EXISTS', `${out} already holds an OpenAI fine-tuning run (${state.jobId ?? `upload ${state.trainingFile.fileId ?? 'pending'}`})`, {
      details: { out, jobId: state.jobId },
      hint: 'add --resume to follow that job, or choose a new --out for a new job',
    })
  }
  const upload = await writeOpenAITrainingFile(opts.dataset, out)
  for (const w of upload.warnings) emit({ type: 'log', message: `warning: ${w}` })
  if (state && state.trainingFile.sha256 !== upload.sha256) {
    throw new RagtuneError('TRAIN_RESUME_MISMATCH', `the dataset changed since the job in ${out} was started (sha256 ${upload.sha256.slice(0, 12)}…, the job used ${state.trainingFile.sha256.slice(0, 12)}…)`, {
      details: { out, expected: state.trainingFile.sha256, got: upload.sha256 },
      hint: 'resume with the same --dataset, or train into a new --out folder',
    })
  }
  if (state && state.baseModel !== baseModel) emit({ type: 'log', message: `resuming the job on ${state.baseModel} (--openai-model ${baseModel} applies to new jobs only)` })
  state ??= { version: 1, baseModel, trainingFile: { sha256: upload.sha256, fileId: null }, jobId: null, createdAt: new Date().toISOString() }

  if (!state.trainingFile.fileId) {
    emit({ type: 'log', message: `uploading ${upload.examples} examples (${(upload.bytes.length / 1024).toFixed(1)} KiB) to OpenAI` })
    const file = await call('upload training file', async (signal) => client.files.create({ file: await toFile(upload.bytes, path.basename(upload.path)), purpose: 'fine-tune' }, { signal }), { timeoutMs: 300_000 })
    state = { ...state, trainingFile: { ...state.trainingFile, fileId: file.id } }
    await writeJobState(out, state)
  }
  const fileId = state.trainingFile.fileId!
  let job: Job
  if (state.jobId) {
    const jobId = state.jobId
    job = await call('retrieve fine-tuning job', (signal) => client.fineTuning.jobs.retrieve(jobId, { signal }))
    emit({ type: 'log', message: `attached to fine-tuning job ${job.id} (${job.status})` })
  } else {
    const s = state
    job = await call('create fine-tuning job', async (signal) => (await findJobForFile(client, fileId, signal)) ?? client.fineTuning.jobs.create(jobRequest(opts, s.baseModel, fileId), { signal }))
    state = { ...state, jobId: job.id }
    await writeJobState(out, state)
    emit({ type: 'log', message: `fine-tuning job ${job.id} on ${job.model} (${job.status}); state in ${path.join(out, STATE_FILE)}` })
  }

  const losses = new Map<number, number>()
  try {
    job = await follow(job)
  } catch (err) {
    // Stopping (Ctrl-C) at any point of the follow loop leaves the job running: say how to come back.
    if (err instanceof RagtuneError && err.code === 'ABORTED') throw detached(job.id, out)
    throw err
  }
  return finish(job, state, { out, examples: upload.examples, losses: [...losses.entries()].sort((a, b) => a[0] - b[0]).map(([, l]) => l), warnings: upload.warnings })

  async function follow(first: Job): Promise<Job> {
    let current = first
    let lastSeen: string | null = null
    let status = current.status
    for (;;) {
      const id = current.id
      const shown = current
      const events = await call('list fine-tuning events', (signal) => newEvents(async (after) => client.fineTuning.jobs.listEvents(id, { limit: 100, ...(after ? { after } : {}) }, { signal }), lastSeen))
      for (const e of events) {
        const t = toTrainEvent(e, shown)
        if (t.type === 'step') losses.set(t.step, t.loss)
        emit(t)
      }
      lastSeen = events.at(-1)?.id ?? lastSeen
      if (TERMINAL.has(current.status)) return current
      await pause(opts.pollMs ?? 15_000, opts.signal)
      current = await call('retrieve fine-tuning job', (signal) => client.fineTuning.jobs.retrieve(id, { signal }))
      if (current.status !== status) emit({ type: 'log', message: `job ${id}: ${status} → ${current.status}` })
      status = current.status
    }
  }
}

function jobRequest(opts: OpenAIFineTuneOptions, model: string, fileId: string): OpenAI.FineTuning.JobCreateParams {
  const hyperparameters = {
    ...(opts.epochs !== undefined ? { n_epochs: opts.epochs } : {}),
    ...(opts.batchSize !== undefined ? { batch_size: opts.batchSize } : {}),
    ...(opts.learningRateMultiplier !== undefined ? { learning_rate_multiplier: opts.learningRateMultiplier } : {}),
  }
  return {
    model,
    training_file: fileId,
    method: { type: 'supervised', supervised: { hyperparameters } },
    ...(opts.suffix ? { suffix: opts.suffix } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    metadata: { created_by: 'ragtune' },
  }
}

/** A job already created from this upload (a create whose answer was lost, a crash before the state was saved). */
async function findJobForFile(client: OpenAI, fileId: string, signal: AbortSignal): Promise<Job | null> {
  const page = await client.fineTuning.jobs.list({ limit: 100 }, { signal })
  return page.data.find((j) => j.training_file === fileId && j.status !== 'failed' && j.status !== 'cancelled') ?? null
}

function detached(jobId: string, out: string): RagtuneError {
  return new RagtuneError('ABORTED', `stopped following fine-tuning job ${jobId}; it keeps running on OpenAI`, {
    details: { jobId, out },
    hint: `attach again with \`ragtune train --backend openai --out ${out} --resume\` (same --dataset)`,
  })
}

/** The wait between polls; stopped, it rejects with ABORTED, which the follow loop turns into "detached". */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return abortableSleep(ms, signal).catch(() => {
    throw new RagtuneError('ABORTED', 'aborted')
  })
}

async function finish(job: Job, state: OpenAIJobState, o: { out: string; examples: number; losses: number[]; warnings: string[] }): Promise<OpenAIFineTuneResult> {
  if (job.status !== 'succeeded' || !job.fine_tuned_model) {
    const reason = job.error?.message ? `: ${job.error.message}` : ''
    throw new RagtuneError(job.status === 'cancelled' ? 'OPENAI_JOB_CANCELLED' : 'OPENAI_JOB_FAILED', `fine-tuning job ${job.id} ended ${job.status}${reason}`, {
      details: { jobId: job.id, status: job.status, error: job.error ?? null },
      hint: job.status === 'cancelled' ? 'start a new job into a new --out folder' : 'fix what the message names (often a record of the dataset), then train into a new --out folder',
    })
  }
  const result: OpenAIFineTuneResult = {
    jobId: job.id,
    fineTunedModel: job.fine_tuned_model,
    baseModel: job.model,
    trainingFileId: state.trainingFile.fileId!,
    trainedTokens: job.trained_tokens ?? null,
    hyperparameters: { ...(job.method?.supervised?.hyperparameters ?? job.hyperparameters ?? {}) },
    losses: o.losses,
    examples: o.examples,
    reportPath: path.join(o.out, 'training-report.json'),
    warnings: o.warnings,
  }
  await writeFile(result.reportPath, JSON.stringify({ backend: 'openai', ...result }, null, 2) + '\n')
  return result
}
