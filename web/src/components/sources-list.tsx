import type { AnswerSource, LoggedHit } from '../types'

type Scores = AnswerSource['scores']

/** A source as both the answer route (AnswerSource) and the log (LoggedHit) describe it. */
export interface SourceView {
  n: number
  path: string
  heading: string[]
  chunkId: string
  scores: Scores
}

export function fromLoggedHit(h: LoggedHit): SourceView {
  return { n: h.rank, path: h.documentPath, heading: h.headingPath, chunkId: h.chunkId, scores: h.scores }
}

/**
 * The numbered sources the model saw, with every stage's score: which stage put a source there is
 * what tells a retrieval miss from a generation fault.
 */
export function SourcesList({ sources, cited = [] }: { sources: SourceView[]; cited?: number[] }) {
  if (sources.length === 0) return <p className="state empty">No sources were retrieved for this question.</p>
  return (
    <ol className="sources" aria-label="Sources">
      {sources.map((s) => (
        <li key={s.chunkId} className={cited.includes(s.n) ? 'cited' : undefined}>
          <span className="source-n">[{s.n}]</span>
          <span className="source-path">{s.path}</span>
          {s.heading.length > 0 && <span className="muted"> › {s.heading.join(' › ')}</span>}
          {cited.includes(s.n) && <span className="badge good">cited</span>}
          <span className="scores">
            {s.scores.dense && <span>dense {s.scores.dense.score.toFixed(3)} (#{s.scores.dense.rank})</span>}
            {s.scores.lexical && <span>lexical {s.scores.lexical.score.toFixed(3)} (#{s.scores.lexical.rank})</span>}
            <span>fused {s.scores.fused.toFixed(4)}</span>
            {s.scores.rerank !== undefined && <span>rerank {s.scores.rerank.toFixed(3)}</span>}
          </span>
        </li>
      ))}
    </ol>
  )
}
