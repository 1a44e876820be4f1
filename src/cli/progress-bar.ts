/** Options for a progress line on a stream (stderr by default, so stdout stays clean for --json). */
export interface ProgressBarOptions {
  stream?: NodeJS.WriteStream
  /** Width of the bar in characters. */
  width?: number
  /** Non-TTY streams get a plain line at most this often. */
  plainEveryMs?: number
}

export interface ProgressState {
  done: number
  total: number
  /** Extra fields shown after the counts, e.g. `320 chunks`, `45.2 chunks/s`. */
  fields: string[]
  etaSec: number | null
}

/**
 * One progress line: redrawn in place on a terminal, printed as occasional plain lines in CI logs
 * and pipes (a redrawn line there is unreadable).
 */
export class ProgressBar {
  private readonly stream: NodeJS.WriteStream
  private readonly width: number
  private readonly plainEveryMs: number
  private lastPlain = 0
  private finished = false
  private drawn = false

  constructor(private readonly label: string, opts: ProgressBarOptions = {}) {
    this.stream = opts.stream ?? process.stderr
    this.width = opts.width ?? 24
    this.plainEveryMs = opts.plainEveryMs ?? 5000
  }

  update(s: ProgressState): void {
    if (s.total === 0) return // nothing to do: no bar beats an empty one
    const line = formatProgress(this.label, s, this.width)
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${line}`)
      this.drawn = true
    } else {
      const now = Date.now()
      // The finished line is printed once, however many updates report done === total.
      const finishing = s.done === s.total && !this.finished
      if (finishing || (s.done < s.total && now - this.lastPlain >= this.plainEveryMs)) {
        this.lastPlain = now
        this.finished ||= finishing
        this.stream.write(line + '\n')
      }
    }
  }

  /** Ends the line so later output starts on a fresh one. */
  stop(): void {
    if (this.drawn) this.stream.write('\n')
    this.drawn = false
  }
}

/** Pure so tests can check the text a user sees. */
export function formatProgress(label: string, s: ProgressState, width = 24): string {
  const frac = s.total > 0 ? Math.min(1, s.done / s.total) : 1
  const filled = Math.round(frac * width)
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled)
  const eta = s.etaSec === null ? 'ETA --' : `ETA ${formatDuration(s.etaSec)}`
  return [`${label} ${bar} ${s.done}/${s.total}`, ...s.fields, eta].join(' · ')
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '--'
  const s = Math.max(0, Math.round(sec))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}
