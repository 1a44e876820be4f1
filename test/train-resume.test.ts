import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { jsonAnswer, ragTaskExample } from '../src/models/tiny-llama/pretrained/rag-task.js'
import { tinyLlama } from './fixtures/tiny-llama.js'

const CHILD = fileURLToPath(new URL('./helpers/train-child.ts', import.meta.url))

interface Run {
  events: Array<Record<string, unknown>>
  killed: boolean
}

/** Runs the trainer in a child; with `killAfterCheckpoint` it is SIGKILLed once that checkpoint is written. */
function train(args: string[], killAfterCheckpoint?: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    // One process (not the tsx launcher, which would leave its node child running after SIGKILL).
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const events: Run['events'] = []
    let stderr = ''
    let buffer = ''
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString()
      let nl
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 1)
        if (!line.startsWith('{')) continue
        const e = JSON.parse(line) as Record<string, unknown>
        events.push(e)
        if (killAfterCheckpoint !== undefined && e.type === 'checkpoint' && e.step === killAfterCheckpoint) child.kill('SIGKILL')
      }
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ events, killed: true })
      else if (code === 0) resolve({ events, killed: false })
      else reject(new Error(`trainer exited with ${code}: ${stderr}`))
    })
  })
}

const sha = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex')

describe('a training run killed with SIGKILL', () => {
  let dataset: string
  let base: string
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ragtune-resume-'))
    dataset = join(root, 'data.jsonl')
    const lines = Array.from({ length: 12 }, (_, i) => {
      const e = ragTaskExample(4, i)
      return JSON.stringify({ messages: [...e.messages, { role: 'assistant', content: jsonAnswer(e) }] })
    })
    await writeFile(dataset, `${lines.join('\n')}\n`)
    base = (await tinyLlama()).q8_0
  })

  it('continues with --resume to the same adapter bytes as an uninterrupted run', async () => {
    const straight = join(root, 'straight', 'adapter') // same folder name: it is the adapter's name inside the GGUF
    const full = await train([dataset, base, straight, 'fresh'])
    expect(full.killed).toBe(false)
    const steps = full.events.filter((e) => e.type === 'step').length
    expect(steps).toBe(6) // 12 examples / (2 × 2) per step × 2 epochs

    const broken = join(root, 'broken', 'adapter')
    const first = await train([dataset, base, broken, 'fresh'], 3)
    expect(first.killed).toBe(true)
    expect(await readdir(join(broken, 'checkpoints'))).toContain('step-0000003')
    // A fresh start into a folder with checkpoints is refused rather than silently overwriting them.
    await expect(train([dataset, base, broken, 'fresh'])).rejects.toThrow(/RUN_IN_PROGRESS|unfinished run/)
    const resumed = await train([dataset, base, broken, 'resume'])
    expect(resumed.killed).toBe(false)
    expect(resumed.events.find((e) => e.type === 'start')?.startStep).toBe(3)
    expect(resumed.events.filter((e) => e.type === 'step').map((e) => e.step)).toEqual([4, 5, 6])

    // Same losses for the steps both runs computed, and bit-identical adapters.
    const lossAt = (run: Run, step: number): unknown => run.events.find((e) => e.type === 'step' && e.step === step)?.loss
    for (const step of [4, 5, 6]) expect(lossAt(resumed, step)).toBe(lossAt(full, step))
    expect(await sha(join(broken, 'adapter.gguf'))).toBe(await sha(join(straight, 'adapter.gguf')))
    expect(await sha(join(broken, 'adapter_model.safetensors'))).toBe(await sha(join(straight, 'adapter_model.safetensors')))
    // Checkpoints are removed once the adapter is written.
    expect(await readdir(broken)).not.toContain('checkpoints')
  }, 240_000)
})
