import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LlamaModel } from 'node-llama-cpp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tinyLlama } from '../../../test/fixtures/tiny-llama.js'
import { readGguf } from '../../models/gguf/gguf-reader.js'
import { llamaRuntime } from '../../models/llama/llama-runtime.js'
import { seededUniform } from '../../models/seeded-random.js'
import { encodeGguf } from '../../models/tiny-llama/gguf-writer.js'
import { blockLinearShapes, resolveTinyLlamaOptions } from '../../models/tiny-llama/tiny-llama.js'
import { DEFAULT_LORA_TARGETS, tinyLoraGguf } from '../../models/tiny-llama/tiny-lora.js'
import type { LoraPair, LoraWeights } from '../lora-weights.js'
import { convertPeftToGguf, exportPeft } from './convert.js'
import { ggufLoraFile, writeGgufLora } from './gguf-lora.js'
import { peftAdapterConfig, peftTensorName, writePeftAdapter } from './peft.js'
import { permuteRowsHfToGguf } from './rope-permute.js'
import type { SafetensorsTensor } from './safetensors.js'

/** The same weights tinyLoraGguf generates (rank 4, alpha 8, seed 7), as LoraWeights; `bScale` 0 gives B = 0. */
function tinyLoraWeights(bScale = 1): LoraWeights {
  const shapes = blockLinearShapes(resolveTinyLlamaOptions({}))
  const [rank, seed] = [4, 7]
  const pairs = new Map<string, LoraPair>()
  for (let layer = 0; layer < 2; layer++) {
    for (const target of DEFAULT_LORA_TARGETS) {
      const [inputs, outputs] = shapes[target]
      const name = `blk.${layer}.${target}.weight`
      const a = seededUniform(`${name}.lora_a`, seed, inputs * rank, 1 / Math.sqrt(inputs))
      const b = seededUniform(`${name}.lora_b`, seed, rank * outputs, 0.5 / Math.sqrt(rank)).map((v) => v * bScale)
      pairs.set(`blk.${layer}.${target}`, { inputs, outputs, a, b })
    }
  }
  return { rank, alpha: 8, targets: DEFAULT_LORA_TARGETS, pairs }
}

let dir: string
let basePath: string
let model: LlamaModel
const prompt = 'The quick brown fox jumps over the lazy dog and then'

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ragtune-gguf-lora-'))
  basePath = (await tinyLlama()).f32
  model = await (await llamaRuntime(false)).loadModel({ modelPath: basePath, gpuLayers: 0 })
})
afterAll(async () => {
  await model?.dispose()
  await rm(dir, { recursive: true, force: true })
})

/** Next-token logits after `prompt`, with the adapter at `adapterPath` applied (or none). */
async function nextTokenLogits(adapterPath: string | null): Promise<Float64Array> {
  const context = await model.createContext({ contextSize: 128, sequences: 1, threads: 1, ...(adapterPath ? { lora: { adapters: [{ filePath: adapterPath }] } } : {}) })
  try {
    const tokens = model.tokenize(prompt)
    const last = tokens[tokens.length - 1] as (typeof tokens)[number]
    const out = await context.getSequence().controlledEvaluate([...tokens.slice(0, -1), [last, { generateNext: { logits: true } }]])
    const logits = out[tokens.length - 1]?.next.logits as Map<number, number>
    const array = new Float64Array(logits.size)
    for (const [token, value] of logits) array[token] = value
    return array
  } finally {
    await context.dispose()
  }
}

const maxDiff = (a: Float64Array, b: Float64Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0)
const argmax = (a: Float64Array): number => a.reduce((best, v, i) => (v > (a[best] as number) ? i : best), 0)

describe('writeGgufLora', () => {
  it('lays tensors and metadata out exactly as the tiny-lora generator (llama.cpp convert_lora_to_gguf layout)', () => {
    const ours = encodeGguf(ggufLoraFile(tinyLoraWeights(), { name: 'ragtune tiny lora r4' }))
    expect(ours.equals(encodeGguf(tinyLoraGguf({})))).toBe(true)
  })

  it('loads in node-llama-cpp and changes the logits and greedy token; B = 0 changes nothing', async () => {
    const tuned = await writeGgufLora(tinyLoraWeights(), { path: join(dir, 'tuned.gguf'), name: 'tuned' })
    const zero = await writeGgufLora(tinyLoraWeights(0), { path: join(dir, 'zero.gguf'), name: 'zero' })
    expect(tuned.sha256).toBe(createHash('sha256').update(await readFile(tuned.path)).digest('hex'))
    expect(tuned.bytes).toBe((await readFile(tuned.path)).byteLength)
    const [base, withTuned, withZero] = [await nextTokenLogits(null), await nextTokenLogits(tuned.path), await nextTokenLogits(zero.path)]
    expect(base.length).toBeGreaterThan(1000)
    expect(maxDiff(base, withZero)).toBe(0)
    expect(maxDiff(base, withTuned)).toBeGreaterThan(0.5)
    expect(argmax(withTuned)).not.toBe(argmax(base))
  })

  it('rejects pairs whose sizes do not match the rank, and keys that are not GGUF block tensors', () => {
    const lora = tinyLoraWeights()
    const broken = { ...lora, pairs: new Map([['blk.0.attn_q', { ...(lora.pairs.get('blk.0.attn_q') as LoraPair), a: new Float32Array(3) }]]) }
    expect(() => ggufLoraFile(broken, { name: 'x' })).toThrow(/blk\.0\.attn_q: expected a \[4, 64\] and b \[64, 4\], got 3 and 256 values/)
    const badKey = { ...lora, pairs: new Map([['layers.0.q_proj', lora.pairs.get('blk.0.attn_q') as LoraPair]]) }
    expect(() => ggufLoraFile(badKey, { name: 'x' })).toThrow(/is not blk\.<layer>\./)
  })
})

describe('PEFT export → convertPeftToGguf', () => {
  it('gives back the byte-identical GGUF, which fits and loads on the base model with the same logits', async () => {
    const lora = tinyLoraWeights()
    const direct = await writeGgufLora(lora, { path: join(dir, 'direct.gguf'), name: 'round trip' })
    await exportPeft(lora, { dir: join(dir, 'peft'), heads: 4, kvHeads: 2, baseModelName: 'ragtune/tiny-llama' })
    const converted = await convertPeftToGguf({ peftDir: join(dir, 'peft'), base: basePath, out: join(dir, 'converted.gguf'), name: 'round trip' })
    expect(converted).toMatchObject({ sha256: direct.sha256, rank: 4, alpha: 8, warnings: [] })
    expect(maxDiff(await nextTokenLogits(direct.path), await nextTokenLogits(converted.path))).toBe(0)
  })

  it('puts hand-written HF q/k B rows into llama.cpp order (the direction the RoPE test proves) and A, v as they are', async () => {
    const t = (name: string, shape: number[]): SafetensorsTensor => ({ dtype: 'F32', shape, values: seededUniform(name, 9, shape[0]! * shape[1]!, 1) })
    const hf = new Map<string, SafetensorsTensor>([
      [peftTensorName(1, 'attn_q', 'A'), t('qa', [4, 64])], [peftTensorName(1, 'attn_q', 'B'), t('qb', [64, 4])],
      [peftTensorName(1, 'attn_k', 'A'), t('ka', [4, 64])], [peftTensorName(1, 'attn_k', 'B'), t('kb', [32, 4])],
      [peftTensorName(1, 'attn_v', 'A'), t('va', [4, 64])], [peftTensorName(1, 'attn_v', 'B'), t('vb', [32, 4])],
    ])
    await writePeftAdapter(join(dir, 'peft-hand'), peftAdapterConfig({ rank: 4, alpha: 16, dropout: 0, targets: ['attn_q', 'attn_k', 'attn_v'], baseModelName: 'x' }), hf)
    const out = await convertPeftToGguf({ peftDir: join(dir, 'peft-hand'), base: basePath, out: join(dir, 'hand.gguf'), name: 'hand' })
    const file = await readGguf(out.path)
    expect(file.metadata.get('general.type')).toBe('adapter')
    expect(file.metadata.get('general.name')).toBe('hand')
    expect(file.metadata.get('adapter.lora.alpha')).toBe(16)
    const tensor = (name: string): { dims: number[]; values: Float32Array } => {
      const found = file.tensors.find((x) => x.name === name)!
      return { dims: found.dims, values: new Float32Array(found.data.slice().buffer) }
    }
    const hfValues = (target: 'attn_q' | 'attn_k' | 'attn_v', part: 'A' | 'B'): Float32Array => hf.get(peftTensorName(1, target, part))!.values
    expect(tensor('blk.1.attn_q.weight.lora_a')).toEqual({ dims: [64, 4], values: hfValues('attn_q', 'A') })
    expect(tensor('blk.1.attn_q.weight.lora_b')).toEqual({ dims: [4, 64], values: permuteRowsHfToGguf(hfValues('attn_q', 'B'), 64, 4, 4) })
    expect(tensor('blk.1.attn_k.weight.lora_b')).toEqual({ dims: [4, 32], values: permuteRowsHfToGguf(hfValues('attn_k', 'B'), 32, 4, 2) })
    expect(tensor('blk.1.attn_v.weight.lora_b').values).toEqual(hfValues('attn_v', 'B'))
  })

  it('reads head counts from the base GGUF: converting with the wrong ones gives a different adapter', async () => {
    await exportPeft(tinyLoraWeights(), { dir: join(dir, 'peft-heads'), heads: 4, kvHeads: 2, baseModelName: 'x' })
    const right = await convertPeftToGguf({ peftDir: join(dir, 'peft-heads'), base: basePath, out: join(dir, 'right.gguf') })
    const shape = await convertPeftToGguf({ peftDir: join(dir, 'peft-heads'), base: { architecture: 'llama', heads: 4, kvHeads: 2 }, out: join(dir, 'shape.gguf') })
    const wrong = await convertPeftToGguf({ peftDir: join(dir, 'peft-heads'), base: { architecture: 'llama', heads: 2, kvHeads: 1 }, out: join(dir, 'wrong.gguf') })
    const neox = await convertPeftToGguf({ peftDir: join(dir, 'peft-heads'), base: { architecture: 'qwen2', heads: 4, kvHeads: 2 }, out: join(dir, 'neox.gguf') })
    expect(shape.sha256).toBe(right.sha256)
    expect(wrong.sha256).not.toBe(right.sha256)
    expect(neox.sha256).not.toBe(right.sha256)
  })

  it('throws ADAPTER_MISMATCH when the adapter does not fit the base GGUF', async () => {
    const other = tinyLoraWeights()
    const p = other.pairs.get('blk.0.attn_q') as LoraPair
    other.pairs.set('blk.5.attn_q', p)
    await exportPeft(other, { dir: join(dir, 'peft-misfit'), heads: 4, kvHeads: 2, baseModelName: 'x' })
    await expect(convertPeftToGguf({ peftDir: join(dir, 'peft-misfit'), base: basePath, out: join(dir, 'misfit.gguf') })).rejects.toMatchObject({
      code: 'ADAPTER_MISMATCH',
      message: expect.stringMatching(/no tensor blk\.5\.attn_q\.weight/),
    })
  })
})
