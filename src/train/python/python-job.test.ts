import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tinyLlama } from '../../../test/fixtures/tiny-llama.js'
import { tinyAdapter } from '../../../test/fixtures/tiny-lora-weights.js'
import { exportPeft } from '../adapter-io/convert.js'
import { writeGgufLora } from '../adapter-io/gguf-lora.js'
import { probePythonEnvironment } from './python-env.js'
import type { PythonJobEvent } from './python-job.js'
import { JOB_SCRIPT_PATH, jobScriptConfig, runPythonJob } from './python-job.js'

const run = promisify(execFile)
const DEBIAN_PYTHON = '/usr/bin/python3'
const testdata = (name: string): string => fileURLToPath(new URL(`./testdata/${name}`, import.meta.url))

let dir: string
let dataset: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ragtune-python-job-'))
  dataset = join(dir, 'train.jsonl')
  const records = [
    { messages: [{ role: 'system', content: 'Answer from the sources.' }, { role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: '4 [1]' }] },
    { prompt: 'Capital of France?', completion: 'Paris [2]' },
  ]
  await writeFile(dataset, records.map((r) => JSON.stringify(r)).join('\n'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})


describe('job-script.py', () => {
  it('compiles, and ships: the resolved path exists and package.json "files" lists it', async () => {
    // Compiled into the temp folder, so no __pycache__ lands in the source tree.
    await run('python3', ['-c', 'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)', JOB_SCRIPT_PATH, join(dir, 'job-script.pyc')])
    expect(existsSync(JOB_SCRIPT_PATH)).toBe(true)
    const pkg = JSON.parse(await readFile(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { files: string[] }
    expect(pkg.files).toContain('src/train/python/job-script.py')
  })

  it.skipIf(!existsSync(DEBIAN_PYTHON))('masks prompts, schedules lr, and resumes a killed run to identical weights (torch only; fake tokenizer and model)', async (ctx) => {
    if ((await probePythonEnvironment(DEBIAN_PYTHON)).packages.torch === null) return ctx.skip()
    const { stdout } = await run(DEBIAN_PYTHON, [testdata('job-script-check.py')], { timeout: 120_000 })
    const r = JSON.parse(stdout) as Record<string, unknown>
    expect(r.fullText).toBe('<system>S|<user>Hi?|<assistant>Yo!|<user>And?|<assistant>Bye|')
    expect(r.labeledText).toBe('Yo!|Bye|') // both answers with their end-of-turn marker; no prompt token
    expect(r.truncatedLength).toBe(20)
    expect((r.lrCosine as number[]).slice(0, 3)).toEqual([0.5, 1, 1])
    expect((r.lrCosine as number[])[9]).toBeGreaterThan(0)
    expect(r.lrConstant).toEqual([0.5, 1, 1, 1])
    expect(r).toMatchObject({ totalSteps: 9, checkpoints: [2, 4, 6, 8], checkpointFiles: ['adapter.pt', 'training_state.pt'], killedAtStep: 5, resumedFrom: 'step-4' })
    expect(r.startEvent).toMatchObject({ event: 'start', device: 'cpu', examples: 10, totalSteps: 9, resumedFrom: null })
    expect(r.stepFields).toEqual(['epoch', 'event', 'loss', 'lr', 'step', 'tokensPerSecond', 'totalSteps'])
    expect(r.lastLoss as number).toBeLessThan((r.firstLoss as number) / 2)
    expect(r).toMatchObject({ resumedSteps: [5, 6, 7, 8, 9], sameLossesAfterResume: true, sameWeightsAfterResume: true })
  })
})

describe('runPythonJob', () => {
  it('writes the job config with HF target names and defaults left to the script', () => {
    expect(jobScriptConfig({ baseModel: 'm', dataset: 'd', outputDir: 'o', rank: 8, targets: ['attn_q', 'ffn_down'], warmupSteps: undefined })).toEqual({
      baseModel: 'm', dataset: 'd', outputDir: 'o', rank: 8, targetModules: ['q_proj', 'down_proj'],
    })
  })

  it('fails with TRAIN_JOB_FAILED and the fix when transformers is missing (the real script; every config key accepted)', async () => {
    const python = existsSync(DEBIAN_PYTHON) ? DEBIAN_PYTHON : 'python3'
    const events: PythonJobEvent[] = []
    const error = await runPythonJob({
      python,
      config: {
        baseModel: 'HuggingFaceTB/SmolLM2-135M-Instruct', dataset, outputDir: join(dir, 'real'), targets: ['attn_q', 'attn_v'], rank: 8, alpha: 16, dropout: 0.1,
        learningRate: 1e-4, warmupSteps: 2, schedule: 'constant', epochs: 1, batchSize: 2, gradAccum: 1, maxLength: 256, seed: 1, checkpointSteps: 5, resume: true, quantization: 'auto',
      },
      onEvent: (e) => events.push(e),
    }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'TRAIN_JOB_FAILED', details: { code: 2 } })
    expect((error as Error).message).toMatch(/the GPU training job failed: python package (torch|transformers) is not importable by .*pip install torch transformers peft/s)
    expect(events).toEqual([expect.objectContaining({ event: 'error', type: 'JobError' })])
  })

  it('reports a dataset record it cannot read before loading any model', async () => {
    const bad = join(dir, 'bad.jsonl')
    await writeFile(bad, '{"messages": []}\n{"text": "no roles"}\n')
    await expect(runPythonJob({ config: { baseModel: 'm', dataset: bad, outputDir: join(dir, 'bad') } })).rejects.toThrow(/line 2: expected \{messages: \[\.\.\.\]\} or \{prompt, completion\}, got keys \['text'\]/)
  })

  it('throws PYTHON_NOT_FOUND when the interpreter does not start', async () => {
    await expect(runPythonJob({ python: '/nonexistent/python3', config: { baseModel: 'm', dataset, outputDir: join(dir, 'none') } })).rejects.toMatchObject({ code: 'PYTHON_NOT_FOUND' })
  })

  it('forwards events and converts the PEFT result to GGUF (launcher with a fake interpreter; no training)', async () => {
    const outputDir = join(dir, 'fake')
    const lora = tinyAdapter()
    await exportPeft(lora, { dir: join(outputDir, 'adapter'), heads: 4, kvHeads: 2, baseModelName: 'tiny' })
    const fakePython = join(dir, 'fake-python')
    await writeFile(fakePython, `#!/bin/sh\nexec python3 '${testdata('fake-job.py')}' job "$@"\n`)
    await chmod(fakePython, 0o755)
    const events: PythonJobEvent[] = []
    const expected = await writeGgufLora(lora, { path: join(dir, 'expected.gguf'), name: 'ragtune lora r2' })
    for (const base of [undefined, (await tinyLlama()).f32]) {
      const result = await runPythonJob({ python: fakePython, config: { baseModel: 'tiny', dataset, outputDir }, base, onEvent: (e) => events.push(e) })
      expect(result).toMatchObject({ adapterDir: join(outputDir, 'adapter'), steps: 2, finalLoss: 1.5, warnings: [], gguf: { path: join(outputDir, 'adapter.gguf'), rank: 2, alpha: 4 } })
      expect(result.gguf.sha256).toBe(expected.sha256)
    }
    expect(events.slice(0, 5).map((e) => e.event)).toEqual(['start', 'step', 'checkpoint', 'step', 'done'])
    expect(events[0]).toMatchObject({ targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] })
  })

  it.skip('trains a real model end to end — cannot run here: this machine has no transformers, peft, GPU or Hugging Face model (no network); checked by hand on an H200 with scripts/gpu-check (its README holds the results)', () => {})
})
