import type OpenAI from 'openai'
import type { TrainEvent } from '../train-report.js'

type FineTuningJob = OpenAI.FineTuning.FineTuningJob
type FineTuningJobEvent = OpenAI.FineTuning.FineTuningJobEvent

/** One page of a job's events as the API returns them: newest first. */
export type EventPage = { data: FineTuningJobEvent[]; has_more: boolean }

/**
 * Events newer than `lastSeen`, oldest first. The API lists newest first and pages backwards with
 * `after`; a poll reads pages until it meets the last event it already showed (or the beginning).
 */
export async function newEvents(list: (after: string | undefined) => Promise<EventPage>, lastSeen: string | null, maxPages = 20): Promise<FineTuningJobEvent[]> {
  const fresh: FineTuningJobEvent[] = []
  let after: string | undefined
  for (let page = 0; page < maxPages; page++) {
    const res = await list(after)
    for (const e of res.data) {
      if (e.id === lastSeen) return fresh.reverse()
      fresh.push(e)
    }
    if (!res.has_more || res.data.length === 0) break
    after = res.data.at(-1)!.id
  }
  return fresh.reverse()
}

interface MetricsData {
  step?: number
  total_steps?: number
  train_loss?: number
}

/**
 * A platform event in the trainer's terms, so `ragtune train` draws the same progress bar for every
 * backend: metrics events (`Step 12/84: training loss=0.91`) become steps, the rest log lines.
 */
export function toTrainEvent(e: FineTuningJobEvent, job: Pick<FineTuningJob, 'hyperparameters' | 'estimated_finish'>, now = Date.now()): TrainEvent {
  const data = (e.data ?? {}) as MetricsData
  const fromMessage = /Step (\d+)\/(\d+): training loss=([\d.eE+-]+)/.exec(e.message)
  const step = data.step ?? (fromMessage ? Number(fromMessage[1]) : undefined)
  const total = data.total_steps ?? (fromMessage ? Number(fromMessage[2]) : undefined)
  const loss = data.train_loss ?? (fromMessage ? Number(fromMessage[3]) : undefined)
  if (e.type === 'metrics' && step !== undefined && total !== undefined && loss !== undefined) {
    const epochs = typeof job.hyperparameters?.n_epochs === 'number' ? job.hyperparameters.n_epochs : null
    const epoch = epochs ? Math.min(epochs, Math.floor(((step - 1) * epochs) / total) + 1) : 1
    const etaSeconds = job.estimated_finish ? Math.max(0, job.estimated_finish - now / 1000) : 0
    return { type: 'step', step, totalSteps: total, epoch, loss, lr: 0, gradNorm: 0, tokensPerSecond: 0, etaSeconds }
  }
  return { type: 'log', message: `openai: ${e.level === 'info' ? '' : `${e.level}: `}${e.message}` }
}
