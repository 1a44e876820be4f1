import { z } from 'zod'
import { parseCron } from './cron.js'

/** A cron expression checked when the config loads, so a typo fails at start, not at 03:00. */
const cronExpression = z.string().superRefine((text, ctx) => {
  try {
    parseCron(text)
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/\n\s*fix: /, '; ') })
  }
})

/**
 * The `schedule` section: the loop's operations running by themselves. Times are UTC (see cron.ts).
 * A job set to null only runs when triggered by hand (`ragtune schedule run <job>`).
 */
export const scheduleConfigSchema = z.strictObject({
  /** `ragtune serve` runs the scheduler without `--schedule`. */
  enabled: z.boolean().default(false),
  /** Re-index docs.root (only changed and deleted files are touched); default nightly at 03:00 UTC. */
  reindexCron: cronExpression.nullable().default('0 3 * * *'),
  /** Check for new labels; retrain, evaluate and gate when there are enough. Default hourly. */
  retrainCron: cronExpression.nullable().default('0 * * * *'),
  /** Labeled examples (usable feedback labels + imported labels) needed since the last adapter's dataset. */
  minNewLabels: z.number().int().min(1).default(200),
  /**
   * Trainer settings of scheduled runs (a scheduled run has no command line); unset keys keep the
   * trainer's defaults (the guide's: r 16, alpha 32, q,k,v,o, lr 2e-4, 3 epochs, batch 4 × 4).
   */
  train: z
    .strictObject({
      rank: z.number().int().min(1).optional(),
      alpha: z.number().positive().optional(),
      /** "q,k,v,o", any of gate,up,down, or "all-linear". */
      targets: z.string().min(1).optional(),
      lr: z.number().positive().optional(),
      epochs: z.number().int().min(1).optional(),
      batchSize: z.number().int().min(1).optional(),
      gradAccum: z.number().int().min(1).optional(),
      maxLength: z.number().int().min(16).optional(),
      threads: z.number().int().min(1).optional(),
    })
    .prefault({}),
})

export type ScheduleConfig = z.output<typeof scheduleConfigSchema>
