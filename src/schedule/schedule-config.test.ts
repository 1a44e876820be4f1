import { describe, expect, it } from 'vitest'
import { configSchema } from '../config/schema.js'

describe('schedule config', () => {
  it('defaults to a nightly re-index, an hourly retrain check at 200 new labels, off in serve', () => {
    expect(configSchema.parse({}).schedule).toEqual({ enabled: false, reindexCron: '0 3 * * *', retrainCron: '0 * * * *', minNewLabels: 200, train: {} })
    expect(configSchema.parse({ schedule: { reindexCron: null, train: { epochs: 1, targets: 'all-linear' } } }).schedule).toMatchObject({ reindexCron: null, train: { epochs: 1, targets: 'all-linear' } })
  })

  it('rejects a bad cron expression when the config loads, naming the key and the fix', () => {
    const res = configSchema.safeParse({ schedule: { retrainCron: '0 25 * * *' } })
    expect(res.success).toBe(false)
    expect(res.error!.issues[0]).toMatchObject({ path: ['schedule', 'retrainCron'], message: expect.stringMatching(/hour expects 0-23, got "25"; write five fields/) })
    expect(configSchema.safeParse({ schedule: { minNewLabels: 0 } }).success).toBe(false)
    expect(configSchema.safeParse({ schedule: { every: '1h' } }).success).toBe(false)
  })
})
