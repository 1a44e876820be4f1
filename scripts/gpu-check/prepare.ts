/**
 * Builds scripts/gpu-check/.payload/, everything the device check needs that only this machine can
 * make (node-llama-cpp, the demo's workspace): the pre-trained tiny Llama as a Hugging Face folder,
 * the demo's RAFT train split as OpenAI chat JSONL, llama.cpp's exact logits and token ids for
 * comparison, and the job config. Then checks the export here as far as this machine allows:
 * token ids and chat template through @huggingface/transformers (transformers.js), and logits of a
 * plain-torch Llama on the exported weights (Debian's python3-torch) against llama.cpp's.
 *
 *   npx tsx scripts/gpu-check/prepare.ts [--demo-dir /tmp/gpucheck-demo] [--out scripts/gpu-check/.payload] [--fresh]
 *
 * The demo folder is reused when it holds a finished demo; --fresh deletes it and runs the demo
 * again (do that after any change to the tiny model, its vocabulary or the demo: the pre-trained
 * model is cached by recipe, not by code).
 * Exits 1 when a local check fails (the payload is still written, for inspection).
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { AutoTokenizer, env } from '@huggingface/transformers'
import type { LlamaModel } from 'node-llama-cpp'
import { RAGTUNE_BIN } from '../../src/demo/cli-runner.js'
import { chatWrapperFor, renderChat } from '../../src/models/llama/chat-prompt.js'
import type { ChatMessage } from '../../src/spec/generator.js'
import { writeSafetensors } from '../../src/train/adapter-io/safetensors.js'
import { endOfTurnTokens, tokenizeRecords } from '../../src/train/data/tokenize-records.js'
import { readTrainingFile, type TrainingRecord } from '../../src/train/data/training-records.js'
import { jobScriptConfig } from '../../src/train/python/python-job.js'
import { DEFAULT_TRAIN_CONFIG } from '../../src/train/train-config.js'
import { exportGgufAsHf } from './hf-export.js'
import { exactLogits, loadCpuModel, logitsTensors, type TokenSequence } from './llama-ref.js'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const REPO = resolve(HERE, '..', '..')

/** The demo's CPU training settings for the tiny model (src/demo/run-demo.ts TRAIN_ARGS: --lr 5e-3 --grad-accum 1), otherwise the CLI defaults. */
const DEMO_LR = 5e-3
const DEMO_GRAD_ACCUM = 1
/** 203 records / batch 4 × 3 epochs = 153 steps: checkpoints at 40, 80, 120. */
const CHECKPOINT_STEPS = 40

/** Strings that exercise the pre-tokenizer regex beyond the demo's texts. */
const EDGE_TEXTS = [
  'Hello,  world!\n\n  indented\ttab',
  "it's THEY'RE we'll I'd you've",
  'numbers 12345 and 3.14159, 2026-11-26',
  '{"answer":"water","source":2}',
  '<sources>\n<source n="1" path="facts/a.md">\nx\n</source>\n</sources>',
  'naïve café — Zürich, 東京, emoji 🙂',
  '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
  '   leading and trailing spaces   ',
  'line\r\nwindows\rline',
]

function run(args: string[], cwd: string): string {
  const r = spawnSync(process.execPath, [RAGTUNE_BIN, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  if (r.status !== 0) throw new Error(`ragtune ${args.join(' ')} (in ${cwd}) exited with ${r.status}:\n${r.stdout}`)
  return r.stdout
}

/** The demo folder (runs `ragtune demo` once when it holds no finished demo). */
async function ensureDemo(dir: string): Promise<{ datasetId: string; adapter: string }> {
  const summaryPath = join(dir, 'demo-summary.json')
  if (!existsSync(summaryPath)) {
    console.log(`running \`ragtune demo --dir ${dir}\` (about 2 minutes; the CLI runs from dist/, so \`npm run build\` first)`)
    const r = spawnSync(process.execPath, [RAGTUNE_BIN, 'demo', '--dir', dir], { stdio: 'inherit' })
    if (r.status !== 0) throw new Error(`ragtune demo exited with ${r.status}`)
  }
  const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as { datasetId: string; adapter: string }
  return { datasetId: summary.datasetId, adapter: summary.adapter }
}

/** Prompt + answer + end of turn, tokenized as the CPU trainer does. */
function fullExample(model: LlamaModel, record: TrainingRecord): number[] {
  const prompt = renderChat(model, chatWrapperFor(model), record.prompt)
  return [...prompt.tokens, ...model.tokenize(record.answer, false), ...endOfTurnTokens(model, prompt.stopTriggers)]
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size
  return total
}

function torchPython(): string | null {
  for (const python of [process.env.RAGTUNE_TORCH_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p)) {
    if (spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8', timeout: 60_000 }).status === 0) return python
  }
  return null
}

/** HEAD and the tracked files changed since, so a result names the code it checked. */
function gitState(): { head: string; dirty: string[] } {
  const git = (...a: string[]): string => spawnSync('git', a, { cwd: REPO, encoding: 'utf8' }).stdout?.trimEnd() ?? ''
  return { head: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain', '--untracked-files=no').split('\n').filter(Boolean) }
}

interface Check {
  name: string
  ok: boolean | null
  detail: string
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { 'demo-dir': { type: 'string', default: '/tmp/gpucheck-demo' }, out: { type: 'string', default: join(HERE, '.payload') }, fresh: { type: 'boolean', default: false } },
  })
  const demoDir = resolve(values['demo-dir'] as string)
  const out = resolve(values.out as string)
  if (values.fresh) await rm(demoDir, { recursive: true, force: true })
  const demo = await ensureDemo(demoDir)
  await rm(out, { recursive: true, force: true })

  // 1. dataset: the demo's RAFT dataset, OpenAI chat JSONL, as `ragtune dataset export` writes it.
  run(['dataset', 'export', demo.datasetId, '--out', join(out, 'dataset'), '--format', 'openai'], demoDir)
  const train = await readTrainingFile(join(out, 'dataset', 'train.openai.jsonl'))
  const evalSet = await readTrainingFile(join(out, 'dataset', 'eval.openai.jsonl'))

  // 2. the base model as a Hugging Face folder.
  const baseGguf = join(demoDir, 'models', 'tiny-llama-rag', 'tiny-llama-rag-f32.gguf')
  const hf = await exportGgufAsHf(baseGguf, join(out, 'hf-base'))

  // 3. llama.cpp's tokens: the CPU trainer's examples, chat renderings, plain texts.
  const model = await loadCpuModel(baseGguf)
  const tokenized = tokenizeRecords(model, train.records, DEFAULT_TRAIN_CONFIG.maxLength)
  if (tokenized.examples.length !== train.records.length) throw new Error(`${tokenized.overLength.length} train records are longer than ${DEFAULT_TRAIN_CONFIG.maxLength} tokens; the device check pairs records with examples one to one`)
  await writeFile(join(out, 'cpu-examples.json'), JSON.stringify(tokenized.examples.map((e) => ({ line: e.line, answerStart: e.answerStart, tokens: [...e.tokens] }))))
  const wrapper = chatWrapperFor(model)
  const chatRecords = [...evalSet.records, ...train.records.slice(0, 10)]
  const chatCases = chatRecords.map((r) => {
    const rendered = renderChat(model, wrapper, r.prompt)
    return { messages: r.prompt, text: rendered.text, ids: [...rendered.tokens] }
  })
  await writeFile(join(out, 'chat-cases.json'), JSON.stringify(chatCases))
  const texts = [...new Set([...train.records, ...evalSet.records].flatMap((r) => [...r.prompt.map((m) => m.content), r.answer]).concat(EDGE_TEXTS))]
  const tokenizerCases = texts.map((text) => ({ text, ids: [...model.tokenize(text, true)] }))
  await writeFile(join(out, 'tokenizer-cases.json'), JSON.stringify(tokenizerCases))

  // 4. fixed sequences and llama.cpp's exact logits for them.
  const sequences: TokenSequence[] = [
    { name: 'synthetic', ids: Array.from({ length: 64 }, (_, i) => (i * 37 + 11) % 1000) },
    { name: 'train0', ids: [...(tokenized.examples[0]?.tokens ?? [])] },
    { name: 'eval0', ids: fullExample(model, evalSet.records[0] as TrainingRecord) },
  ]
  await writeFile(join(out, 'sequences.json'), `${JSON.stringify(sequences)}\n`)
  const vocab = hf.config.vocab
  const ref = await exactLogits(model, sequences)
  await writeSafetensors(join(out, 'ref-logits.safetensors'), logitsTensors('base', ref, vocab))
  const eot = endOfTurnTokens(model, renderChat(model, wrapper, [{ role: 'user', content: 'x' }]).stopTriggers)
  const newline = [...model.tokenize('\n', false)]
  await model.dispose()

  // 5. the job config: the demo's CPU settings, quantization auto (NF4 only where bitsandbytes imports).
  const d = DEFAULT_TRAIN_CONFIG
  const job = jobScriptConfig({
    baseModel: '-', dataset: '-', outputDir: '-',
    targets: d.targets, rank: d.rank, alpha: d.alpha, dropout: d.dropout, learningRate: DEMO_LR, schedule: d.schedule, epochs: d.epochs,
    batchSize: d.batchSize, gradAccum: DEMO_GRAD_ACCUM, maxLength: d.maxLength, seed: d.seed, checkpointSteps: CHECKPOINT_STEPS, quantization: 'auto',
  })
  for (const k of ['baseModel', 'dataset', 'outputDir']) delete job[k]
  await writeFile(join(out, 'job.json'), `${JSON.stringify(job, null, 2)}\n`)

  const manifest = {
    createdAt: new Date().toISOString(),
    git: gitState(),
    demoDir, datasetId: demo.datasetId, cpuAdapter: join(demoDir, 'adapters', demo.adapter),
    baseGguf: relative(demoDir, baseGguf), baseGgufPath: baseGguf, baseGgufSha256: createHash('sha256').update(await readFile(baseGguf)).digest('hex'),
    servingGgufPath: join(demoDir, 'models', 'tiny-llama-rag', 'tiny-llama-rag-q8_0.gguf'),
    chatTemplate: hf.chatTemplate, special: hf.special, endOfTurn: eot, newline, llamaConfig: hf.config,
    trainRecords: train.records.length, evalRecords: evalSet.records.length, trainSha256: train.sha256,
    sequences: sequences.map((s) => ({ name: s.name, tokens: s.ids.length })),
    job,
  }
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)

  // 6. checks here: transformers.js on the exported tokenizer, plain torch on the exported weights.
  const checks: Check[] = []
  env.allowRemoteModels = false
  env.allowLocalModels = true
  const tok = await AutoTokenizer.from_pretrained(join(out, 'hf-base'), { local_files_only: true })
  const idsOf = (text: string): number[] => tok.encode(text, { add_special_tokens: false })
  const badTexts = tokenizerCases.filter((c) => JSON.stringify(idsOf(c.text)) !== JSON.stringify(c.ids))
  checks.push({ name: 'token ids: transformers.js (tokenizer.json) = llama.cpp (GGUF)', ok: badTexts.length === 0, detail: `${tokenizerCases.length - badTexts.length}/${tokenizerCases.length} texts${badTexts[0] ? `; first mismatch: ${JSON.stringify(badTexts[0].text.slice(0, 60))}` : ''}` })
  const rendered = chatCases.map((c) => tok.apply_chat_template(c.messages as ChatMessage[], { tokenize: false, add_generation_prompt: true }) as string)
  const textSame = rendered.filter((r, i) => r === chatCases[i]?.text).length
  const idsSame = rendered.filter((r, i) => JSON.stringify(idsOf(r)) === JSON.stringify(chatCases[i]?.ids)).length
  checks.push({ name: 'chat template: transformers.js apply_chat_template = ragtune renderChat', ok: textSame === chatCases.length && idsSame === chatCases.length, detail: `text ${textSame}/${chatCases.length}, ids ${idsSame}/${chatCases.length}` })
  const decodedSame = tokenizerCases.filter((c) => tok.decode(c.ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }) === c.text).length
  checks.push({ name: 'decode(ids) gives the text back (transformers.js)', ok: decodedSame === tokenizerCases.length, detail: `${decodedSame}/${tokenizerCases.length}` })

  const python = torchPython()
  if (python) {
    const r = spawnSync(python, [join(HERE, 'device_check.py'), 'selftest', '--payload', out], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } })
    const parsed = r.status === 0 ? (JSON.parse(r.stdout.trim().split('\n').pop() as string) as { worstRel: number; exportVsLlamaCpp: Record<string, { maxAbsDiff: number; argmaxAgree: number; tokens: number }> }) : null
    checks.push({
      name: 'logits: plain-torch Llama on model.safetensors (fp64) vs llama.cpp on the GGUF',
      ok: parsed ? parsed.worstRel < 1e-4 : false,
      detail: parsed ? `worst max|Δ|/std ${parsed.worstRel.toExponential(2)}; ${Object.entries(parsed.exportVsLlamaCpp).map(([n, c]) => `${n}: argmax ${c.argmaxAgree}/${c.tokens}`).join(', ')}` : `failed: ${r.stderr.slice(-500)}`,
    })
  } else checks.push({ name: 'logits: plain-torch Llama vs llama.cpp', ok: null, detail: 'skipped: no python3 with torch and numpy (set RAGTUNE_TORCH_PYTHON)' })

  await writeFile(join(out, 'prepare-checks.json'), `${JSON.stringify(checks, null, 2)}\n`)
  const bytes = await dirBytes(out)
  console.log(`\npayload: ${relative(REPO, out) || out} (${(bytes / 2 ** 20).toFixed(2)} MiB): HF model ${hf.config.hidden}x${hf.config.layers}, ${train.records.length} train / ${evalSet.records.length} eval records, sequences ${sequences.map((s) => `${s.name} ${s.ids.length}`).join(', ')}`)
  console.log('\n| local check | result | detail |\n|---|---|---|')
  for (const c of checks) console.log(`| ${c.name} | ${c.ok === null ? 'skipped' : c.ok ? 'pass' : 'FAIL'} | ${c.detail} |`)
  console.log(`\nnext: run \`bash scripts/gpu-check/device.sh\` on the GPU machine with carry ["${relative(REPO, out)}"], copy its OUT into scripts/gpu-check/.result/, then \`npx tsx scripts/gpu-check/finish.ts scripts/gpu-check/.result\``)
  return checks.some((c) => c.ok === false) ? 1 : 0
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
    process.exit(1)
  },
)
