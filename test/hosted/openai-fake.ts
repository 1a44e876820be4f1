import { FakeService, recorded, type FakeResponse, type RecordedRequest } from './fake-service.js'

interface FakeJob {
  body: Record<string, unknown>
  polls: number
  events: Array<Record<string, unknown>>
}

export interface OpenAIFakeOptions {
  apiKey: string
  /** Retrieves a job answers before it succeeds (it runs, emitting one metrics event per retrieve). */
  stepsToFinish?: number
  /** The job ends `failed` with the recorded error instead of succeeding. */
  fail?: boolean
}

/**
 * OpenAI's files and fine-tuning endpoints in memory, in the recorded response shapes
 * (recorded/openai): upload, create (validating_files → running → succeeded, one metrics event per
 * poll), retrieve, list, events (newest first, paged with `after`). Plus a streaming
 * chat completion that echoes the model it was asked for, to show which model serves an answer.
 */
export class OpenAIFake {
  readonly jobs = new Map<string, FakeJob>()
  readonly files = new Map<string, string>()
  /** The next job create stores the job and then answers 500: the "created, answer lost" case. */
  loseNextCreateAnswer = false

  private constructor(readonly service: FakeService, private readonly opts: OpenAIFakeOptions) {}

  static async start(opts: OpenAIFakeOptions): Promise<OpenAIFake> {
    let self: OpenAIFake | null = null
    const service = await FakeService.start((req) => self!.handle(req))
    self = new OpenAIFake(service, opts)
    return self
  }

  /** Base URL for the client (…/v1). */
  get baseURL(): string {
    return `${this.service.url}/v1`
  }

  close(): Promise<void> {
    return this.service.close()
  }

  private async handle(req: RecordedRequest): Promise<FakeResponse> {
    if (req.headers.authorization !== `Bearer ${this.opts.apiKey}`) return { status: 401, body: await recorded('openai', 'error-401') }
    const p = req.path.replace(/^\/v1/, '')
    if (req.method === 'POST' && p === '/files') {
      const id = `file-${this.files.size + 1}`
      this.files.set(id, req.body)
      return { body: { ...(await recorded('openai', 'file')), id, bytes: req.body.length } }
    }
    if (req.method === 'POST' && p === '/fine_tuning/jobs') return this.create(req.json as Record<string, unknown>)
    if (req.method === 'GET' && p === '/fine_tuning/jobs') {
      return { body: { ...(await recorded('openai', 'jobs-list')), data: [...this.jobs.values()].map((j) => j.body).reverse() } }
    }
    const events = /^\/fine_tuning\/jobs\/([^/]+)\/events$/.exec(p)
    if (events) {
      const job = this.jobs.get(events[1]!)
      if (!job) return { status: 404, body: { error: { message: `No such fine-tuning job: ${events[1]}`, type: 'invalid_request_error', param: null, code: null } } }
      const newestFirst = [...job.events].reverse()
      const after = req.query.get('after')
      const start = after ? newestFirst.findIndex((e) => e.id === after) + 1 : 0
      const limit = Number(req.query.get('limit') ?? 20)
      const data = newestFirst.slice(start, start + limit)
      return { body: { ...(await recorded('openai', 'events')), data, has_more: start + limit < newestFirst.length } }
    }
    const one = /^\/fine_tuning\/jobs\/([^/]+)$/.exec(p)
    if (req.method === 'GET' && one) {
      const job = this.jobs.get(one[1]!)
      if (!job) return { status: 404, body: { error: { message: `No such fine-tuning job: ${one[1]}`, type: 'invalid_request_error', param: null, code: null } } }
      return { body: await this.advance(job) }
    }
    if (req.method === 'POST' && p === '/chat/completions') return this.chat(req.json as { model: string })
    return { status: 404, body: { error: { message: `Unknown request URL: ${req.method} ${req.path}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } } }
  }

  private async create(body: Record<string, unknown>): Promise<FakeResponse> {
    if (!this.files.has(body.training_file as string)) {
      return { status: 400, body: { error: { message: `invalid training_file: ${String(body.training_file)}`, type: 'invalid_request_error', param: 'training_file', code: null } } }
    }
    const id = `ftjob-${this.jobs.size + 1}`
    const job: FakeJob = {
      body: { ...(await recorded('openai', 'job-created')), id, model: body.model, training_file: body.training_file, seed: body.seed ?? 42, user_provided_suffix: body.suffix ?? null, metadata: body.metadata ?? null },
      polls: 0,
      events: [{ object: 'fine_tuning.job.event', id: `${id}-ev-0`, created_at: 1721764800, level: 'info', message: `Validating training file: ${String(body.training_file)}`, data: {}, type: 'message' }],
    }
    this.jobs.set(id, job)
    if (this.loseNextCreateAnswer) {
      this.loseNextCreateAnswer = false
      return { status: 500, body: { error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } } }
    }
    return { body: job.body }
  }

  /** Each retrieve moves the job one step: running with a metrics event, until it ends. */
  private async advance(job: FakeJob): Promise<Record<string, unknown>> {
    const total = this.opts.stepsToFinish ?? 3
    const id = job.body.id as string
    if (job.body.status === 'succeeded' || job.body.status === 'failed') return job.body
    job.polls++
    if (job.polls > total) {
      const done = await recorded('openai', this.opts.fail ? 'job-failed' : 'job-succeeded')
      job.body = { ...done, id, model: job.body.model, training_file: job.body.training_file, ...(this.opts.fail ? {} : { fine_tuned_model: `ft:${String(job.body.model)}:my-org::${id.slice(6)}x` }) }
      job.events.push({ object: 'fine_tuning.job.event', id: `${id}-ev-end`, created_at: 1721765100, level: this.opts.fail ? 'error' : 'info', message: this.opts.fail ? 'Fine-tuning job failed' : 'The job has successfully completed', data: {}, type: 'message' })
      return job.body
    }
    job.body = { ...(await recorded('openai', 'job-running')), id, model: job.body.model, training_file: job.body.training_file }
    const loss = 2 / job.polls
    job.events.push({ object: 'fine_tuning.job.event', id: `${id}-ev-${job.polls}`, created_at: 1721764800 + job.polls, level: 'info', message: `Step ${job.polls}/${total}: training loss=${loss.toFixed(2)}`, data: { step: job.polls, train_loss: loss, total_steps: total, train_mean_token_accuracy: 0.5 }, type: 'metrics' })
    return job.body
  }

  private chat(body: { model: string }): FakeResponse {
    const chunk = (delta: Record<string, unknown>, finish: string | null, usage?: Record<string, number>) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1721764800, model: body.model, choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`
    const text = `answer from ${body.model} [1]`
    return {
      headers: { 'content-type': 'text/event-stream' },
      body: chunk({ role: 'assistant', content: text }, null) + chunk({}, 'stop') + chunk({}, null, { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 }) + 'data: [DONE]\n\n',
    }
  }
}
