import { RagtuneError } from '../errors.js'
import type { Label } from '../spec/query-log.js'
import type { Store } from '../spec/store.js'
import { ulid } from './ulid.js'

export interface FeedbackInput {
  queryId: string
  rating?: 'good' | 'bad' | null
  correction?: string | null
  category?: string | null
  /** Where the judgement came from: `cli`, `http`, `import`… */
  source: Label['source']
  author?: string
  /** Default: now. */
  time?: string
}

/**
 * Records a judgement of a logged query; the CLI's `feedback` and the HTTP route both come here. A
 * label must say something (a rating, a correction or a category): an empty one would count as
 * reviewed without teaching anything. An unknown query id is QUERY_NOT_FOUND.
 */
export async function recordFeedback(store: Store, input: FeedbackInput): Promise<Label> {
  const correction = blankToNull(input.correction)
  const category = blankToNull(input.category)
  const rating = input.rating ?? null
  if (rating === null && correction === null && category === null) {
    throw new RagtuneError('FEEDBACK_EMPTY', 'expected a rating (good or bad), a correction or a category, got none', {
      details: { queryId: input.queryId },
      hint: 'e.g. ragtune feedback <id> --bad --category format --correction "the right answer"',
    })
  }
  const label: Label = {
    id: ulid(),
    queryId: input.queryId,
    time: input.time ?? new Date().toISOString(),
    rating,
    correction,
    category,
    source: input.source,
  }
  if (input.author !== undefined) label.author = input.author
  await store.addLabel(label)
  return label
}

function blankToNull(s: string | null | undefined): string | null {
  return s === undefined || s === null || s.trim() === '' ? null : s
}
