import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OpenAIFake } from '../../../test/hosted/openai-fake.js'
import { RagtuneError } from '../../errors.js'
import type { TrainEvent } from '../train-report.js'
import { runOpenAIFineTune, type OpenAIFineTuneOptions } from './openai-finetune.js'
import { readJobState, writeJobState } from './openai-job-state.js'
import { writeOpenAITrainingFile } from './openai-training-file.js'

/** Resolves to the error a call must fail with (a success fails the test). */
const unexpected = (): never => {
  throw new Error('expected the call to fail')
}
const asError = (e: unknown): RagtuneError => e as RagtuneError

const KEY = 'sk-test'
let dir: string
let dataset: string
let fake: OpenAIFake

const record = (i: number) => ({
  messages: [
    { role: 'system', content: 'Answer from the sources.' },
    { role: 'user', content: `<sources>[1] Port ${7000 + i} is used.</sources>\n\nQuestion: which port? (${i})` },
    { role: 'assistant', content: `Port ${7000 + i} [1].` },
  ],
  metadata: { id: `r${i}`, split: 'train' },
})

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ragtune-openai-ft-'))
  dataset = path.join(dir, 'train.jsonl')
  await writeFile(dataset, Array.from({ length: 12 }, (_, i) => JSON.stringify(record(i))).join('\n') + '\n')
  fake = await OpenAIFake.start({ apiKey: KEY, stepsToFinish: 3 })
})
afterAll(async () => {
  await fake?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

let outs = 0
function run(extra: Partial<OpenAIFineTuneOptions> = {}, events: TrainEvent[] = [], delays: number[] = []) {
  return runOpenAIFineTune({
    dataset, out: path.join(dir, `out-${++outs}`), apiKey: KEY, apiKeyEnv: 'OPENAI_API_KEY', baseURL: fake.baseURL, pollMs: 1,
    policy: { baseDelayMs: 1 }, sleep: async (ms) => void delays.push(ms), onEvent: (e) => events.push(e), ...extra,
  })
}

describe('OpenAI training file', () => {
  it('keeps only messages, accepts the trainer\'s other shapes, and names the bad line', async () => {
    const guide = path.join(dir, 'guide.jsonl')
    await writeFile(guide, Array.from({ length: 10 }, (_, i) => JSON.stringify({ instruction: `q${i}`, input: 'ctx', output: `a${i}` })).join('\n'))
    const f = await writeOpenAITrainingFile(guide, path.join(dir, 'conv'))
    const first = JSON.parse((await readFile(f.path, 'utf8')).split('\n')[0]!)
    expect(first).toEqual({ messages: [{ role: 'user', content: 'q0\n\nctx' }, { role: 'assistant', content: 'a0' }] })
    expect(f.examples).toBe(10)

    const withMeta = await writeOpenAITrainingFile(dataset, path.join(dir, 'conv2'))
    expect(await readFile(withMeta.path, 'utf8')).not.toContain('metadata')

    const few = path.join(dir, 'few.jsonl')
    await writeFile(few, JSON.stringify(record(0)))
    expect(((await writeOpenAITrainingFile(few, dir).catch((e: unknown) => e)) as RagtuneError).code).toBe('DATASET_TOO_SMALL')
    const empty = path.join(dir, 'empty.jsonl')
    await writeFile(empty, [...Array.from({ length: 10 }, (_, i) => JSON.stringify(record(i))), JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: ' ' }] })].join('\n'))
    const err = (await writeOpenAITrainingFile(empty, dir).catch((e: unknown) => e)) as RagtuneError
    expect(err.code).toBe('DATASET_INVALID')
    expect(err.message).toContain('empty.jsonl:11: message 2 (assistant) is empty')
  })
})

describe('runOpenAIFineTune', () => {
  it('uploads, creates one job, follows its events as training steps and returns the model id', async () => {
    const events: TrainEvent[] = []
    const r = await run({ epochs: 3, suffix: 'support', seed: 7 }, events)
    expect(r.fineTunedModel).toMatch(/^ft:gpt-4o-mini-2024-07-18:my-org::/)
    expect(r.baseModel).toBe('gpt-4o-mini-2024-07-18')
    expect(r.losses).toEqual([2, 1, 2 / 3])
    const steps = events.filter((e) => e.type === 'step')
    expect(steps.map((e) => e.type === 'step' && [e.step, e.totalSteps, e.epoch])).toEqual([[1, 3, 1], [2, 3, 2], [3, 3, 3]])
    expect(events.some((e) => e.type === 'log' && e.message.includes('The job has successfully completed'))).toBe(true)

    const create = fake.service.calls('/v1/fine_tuning/jobs', 'POST').at(-1)!.json
    expect(create).toMatchObject({ model: 'gpt-4o-mini-2024-07-18', training_file: r.trainingFileId, suffix: 'support', seed: 7, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3 } } } })
    const upload = fake.service.calls('/v1/files', 'POST').at(-1)!
    expect(upload.headers['content-type']).toMatch(/^multipart\/form-data/)
    expect(upload.body).toContain('fine-tune')
    expect(upload.body).not.toContain('"metadata"')
    const state = await readJobState(path.dirname(r.reportPath))
    expect(state).toMatchObject({ jobId: r.jobId, trainingFile: { fileId: r.trainingFileId } })
    expect(JSON.parse(await readFile(r.reportPath, 'utf8'))).toMatchObject({ backend: 'openai', fineTunedModel: r.fineTunedModel })
  })

  it('Ctrl-C detaches; --resume attaches to the same job instead of creating a second one', async () => {
    const ctrl = new AbortController()
    const out = path.join(dir, 'resumable')
    const jobsBefore = fake.jobs.size
    const first = await runOpenAIFineTune({ dataset, out, apiKey: KEY, baseURL: fake.baseURL, pollMs: 10_000, signal: ctrl.signal, onEvent: (e) => e.type === 'log' && e.message.startsWith('fine-tuning job') && ctrl.abort() }).then(unexpected, asError)
    expect(first.code).toBe('ABORTED')
    expect(first.message).toContain('keeps running on OpenAI')
    expect(first.message).toContain('--resume')
    const jobId = (await readJobState(out))!.jobId!
    expect(fake.jobs.size).toBe(jobsBefore + 1)

    const again = await runOpenAIFineTune({ dataset, out, apiKey: KEY, baseURL: fake.baseURL, pollMs: 1 }).then(unexpected, asError)
    expect((again as RagtuneError).code).toBe('TRAIN_OUT_EXISTS')
    const events: TrainEvent[] = []
    const resumed = await runOpenAIFineTune({ dataset, out, apiKey: KEY, baseURL: fake.baseURL, pollMs: 1, resume: true, onEvent: (e) => events.push(e) })
    expect(resumed.jobId).toBe(jobId)
    expect(fake.jobs.size).toBe(jobsBefore + 1)
    expect(events.some((e) => e.type === 'log' && e.message.includes(`attached to fine-tuning job ${jobId}`))).toBe(true)
  })

  it('a create whose answer was lost is found again, not repeated; an upload recorded before a crash is reused', async () => {
    const jobsBefore = fake.jobs.size
    fake.loseNextCreateAnswer = true
    const delays: number[] = []
    const r = await run({}, [], delays)
    expect(fake.jobs.size).toBe(jobsBefore + 1)
    expect(delays).toHaveLength(1)
    expect(r.jobId).toBe(`ftjob-${jobsBefore + 1}`)

    const out = path.join(dir, 'crashed')
    const upload = await writeOpenAITrainingFile(dataset, out)
    const filesBefore = fake.files.size
    fake.files.set('file-precrash', upload.bytes.toString())
    await writeJobState(out, { version: 1, baseModel: 'gpt-4o-mini-2024-07-18', trainingFile: { sha256: upload.sha256, fileId: 'file-precrash' }, jobId: null, createdAt: new Date().toISOString() })
    const resumed = await runOpenAIFineTune({ dataset, out, apiKey: KEY, baseURL: fake.baseURL, pollMs: 1, resume: true })
    expect(resumed.trainingFileId).toBe('file-precrash')
    expect(fake.files.size).toBe(filesBefore + 1)
  })

  it('waits out 429s (Retry-After) on create and retries 5xx while polling', async () => {
    const delays: number[] = []
    fake.service.fail('/v1/fine_tuning/jobs', { status: 429, headers: { 'retry-after': '3' }, body: { error: { message: 'Rate limit reached for requests. Limit: 20 / min. Please try again in 3s.', type: 'requests', param: null, code: 'rate_limit_exceeded' } } })
    fake.service.fail(/^\/v1\/fine_tuning\/jobs\/[^/]+$/, { status: 502, body: 'Bad gateway' })
    const r = await run({}, [], delays)
    expect(r.fineTunedModel).toMatch(/^ft:/)
    expect(delays[0]).toBe(3000)
    expect(delays.length).toBeGreaterThanOrEqual(2)
  })

  it('a bad key names OPENAI_API_KEY; a failed job says why; a changed dataset will not resume', async () => {
    const auth = (await run({ apiKey: 'sk-bad' }).catch((e: unknown) => e)) as RagtuneError
    expect(auth.code).toBe('HOSTED_AUTH')
    expect(auth.message).toContain('OpenAI refused the API key in OPENAI_API_KEY (HTTP 401): Incorrect API key provided')

    const failing = await OpenAIFake.start({ apiKey: KEY, stepsToFinish: 1, fail: true })
    try {
      const err = (await run({ baseURL: failing.baseURL }).catch((e: unknown) => e)) as RagtuneError
      expect(err.code).toBe('OPENAI_JOB_FAILED')
      expect(err.message).toContain("'content' must be a string")
    } finally {
      await failing.close()
    }

    const out = path.join(dir, 'changed')
    await runOpenAIFineTune({ dataset, out, apiKey: KEY, baseURL: fake.baseURL, pollMs: 1 })
    const other = path.join(dir, 'other.jsonl')
    await writeFile(other, Array.from({ length: 11 }, (_, i) => JSON.stringify(record(i))).join('\n'))
    const err = (await runOpenAIFineTune({ dataset: other, out, apiKey: KEY, baseURL: fake.baseURL, resume: true }).catch((e: unknown) => e)) as RagtuneError
    expect(err.code).toBe('TRAIN_RESUME_MISMATCH')
  })
})
