/**
 * Child process for the training resume test: trains a LoRA adapter and prints every event as one
 * JSON line, so the parent can SIGKILL it right after a checkpoint lands.
 */
import { trainLora } from '../../src/train/train-lora.js'

const [dataset, base, out, resume] = process.argv.slice(2) as [string, string, string, string]
await trainLora({
  dataset, base, out, resume: resume === 'resume',
  rank: 4, alpha: 8, lr: 1e-2, epochs: 2, batchSize: 2, gradAccum: 2, checkpointEvery: 1, maxLength: 1024, seed: 9, threads: 2,
  onEvent: (e) => process.stdout.write(`${JSON.stringify(e.type === 'done' ? { type: 'done' } : e)}\n`),
})
