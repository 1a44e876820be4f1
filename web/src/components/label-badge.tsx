import type { Label } from '../types'

/** The current judgement of a logged answer, in the log's label column. */
export function LabelBadge({ label }: { label: Label | undefined }) {
  if (!label) return <span className="muted">–</span>
  const text = [label.rating, label.category].filter(Boolean).join(' · ') || (label.correction ? 'corrected' : 'labeled')
  return <span className={`badge ${label.rating ?? 'neutral'}`}>{text}</span>
}
