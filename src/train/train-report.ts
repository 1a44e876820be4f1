import type { TrainConfig } from './train-config.js'

/** What a training run reports: enough to reproduce it (hashes, config) and to judge it (loss, speed, memory). */
export interface TrainReport {
  adapter: { path: string; sha256: string; bytes: number }
  base: { path: string; sha256: string; residentBytes: number; types: Array<string | undefined> }
  dataset: { path: string; sha256: string; records: number; used: number; overLength: Array<{ line: number; tokens: number }> }
  config: TrainConfig
  steps: number
  /** Step the run continued from (0 unless resumed). */
  resumedFrom: number
  /** Mean answer-token loss of every optimizer step. */
  losses: number[]
  tokensPerSecond: number
  seconds: number
  peakRssBytes: number
  kernels: { backend: string; threads: number }
  warnings: string[]
}

export type TrainEvent =
  | { type: 'start'; totalSteps: number; startStep: number; examples: number; skipped: number; kernels: string; threads: number }
  | { type: 'step'; step: number; totalSteps: number; epoch: number; loss: number; lr: number; gradNorm: number; tokensPerSecond: number; etaSeconds: number }
  | { type: 'checkpoint'; step: number; path: string }
  | { type: 'log'; message: string }
  | { type: 'done'; report: TrainReport }

/** A text sparkline of the loss curve, so the markdown report shows the shape without an image. */
function sparkline(values: readonly number[], width = 60): string {
  if (values.length === 0) return ''
  const bars = '▁▂▃▄▅▆▇█'
  const step = Math.max(1, Math.ceil(values.length / width))
  const points: number[] = []
  for (let i = 0; i < values.length; i += step) {
    const slice = values.slice(i, i + step)
    points.push(slice.reduce((a, b) => a + b, 0) / slice.length)
  }
  const lo = Math.min(...points)
  const hi = Math.max(...points)
  return points.map((v) => bars[Math.round(((v - lo) / (hi - lo || 1)) * (bars.length - 1))]).join('')
}

export function renderTrainReport(r: TrainReport): string {
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`
  const first = r.losses[0]
  const last = r.losses.at(-1)
  return [
    `# Training report`,
    '',
    `| | |`,
    `|---|---|`,
    `| adapter | ${r.adapter.path} (sha256 ${r.adapter.sha256.slice(0, 12)}) |`,
    `| base | ${r.base.path} (sha256 ${r.base.sha256.slice(0, 12)}, ${r.base.types.join('/')}, ${mib(r.base.residentBytes)} resident) |`,
    `| dataset | ${r.dataset.path} (sha256 ${r.dataset.sha256.slice(0, 12)}): ${r.dataset.used} of ${r.dataset.records} records used |`,
    `| LoRA | r=${r.config.rank}, alpha=${r.config.alpha}, dropout ${r.config.dropout}, targets ${r.config.targets.join(', ')} |`,
    `| optimizer | AdamW lr ${r.config.lr} (${r.config.schedule}, warmup ${r.config.warmupRatio}), ${r.config.epochs} epochs, batch ${r.config.batchSize} × accumulation ${r.config.gradAccum}, clip ${r.config.maxGradNorm} |`,
    `| steps | ${r.steps}${r.resumedFrom > 0 ? ` (resumed at ${r.resumedFrom})` : ''} |`,
    `| loss | ${first?.toFixed(4) ?? '-'} → ${last?.toFixed(4) ?? '-'} |`,
    `| speed | ${r.tokensPerSecond.toFixed(1)} tokens/s over ${r.seconds.toFixed(1)} s (${r.kernels.backend} kernels, ${r.kernels.threads} threads) |`,
    `| peak memory | ${mib(r.peakRssBytes)} RSS |`,
    '',
    `Loss curve: ${sparkline(r.losses)}`,
    '',
    ...(r.dataset.overLength.length > 0 ? [`Left out as too long (maxLength ${r.config.maxLength}): ${r.dataset.overLength.map((o) => `line ${o.line} (${o.tokens} tokens)`).join(', ')}`, ''] : []),
    ...(r.warnings.length > 0 ? ['Warnings:', ...r.warnings.map((w) => `- ${w}`), ''] : []),
  ].join('\n')
}
