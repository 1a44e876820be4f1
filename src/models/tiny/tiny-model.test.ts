import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AutoModel, AutoModelForSequenceClassification, AutoTokenizer, Tensor } from '@huggingface/transformers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BertShape, BertWeights, LayerNormWeights, Linear } from './bert-weights.js'
import { LAYER_NORM_EPSILON, randomBertWeights } from './bert-weights.js'
import { TINY_MARKER_FILE, ensureTinyModels } from './ensure-tiny-models.js'
import type { TinyModelOptions } from './tiny-model.js'
import { buildTinyModelFiles, generateTinyModel, hashTinyModelFiles } from './tiny-model.js'
import { buildVocab } from './wordpiece-vocab.js'

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ragtune-tiny-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

async function fileHashes(dir: string, files: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const f of files) out[f] = createHash('sha256').update(await readFile(join(dir, f))).digest('hex')
  return out
}

describe('generateTinyModel', () => {
  it('writes byte-identical files for the same options', async () => {
    const a = await generateTinyModel(join(root, 'a'), { kind: 'encoder' })
    const b = await generateTinyModel(join(root, 'b'), { kind: 'encoder' })
    expect(a.sha256).toBe(b.sha256)
    expect(await fileHashes(a.dir, a.files)).toEqual(await fileHashes(b.dir, b.files))
    expect(a.files).toEqual(expect.arrayContaining(['config.json', 'tokenizer.json', 'onnx/model.onnx', 'modules.json', '1_Pooling/config.json']))
    expect(a.bytes).toBeLessThan(3_000_000)
    expect(hashTinyModelFiles(buildTinyModelFiles({ kind: 'encoder', seed: 7 }))).not.toBe(a.sha256)
  })

  it('rejects shapes that cannot work', () => {
    expect(() => buildTinyModelFiles({ hiddenSize: 30, heads: 4 })).toThrow(/multiple of heads/)
    expect(() => buildTinyModelFiles({ vocab: { size: 10 } })).toThrow(/vocab size/)
  })

  it('has a vocabulary that covers any ASCII word without [UNK]', async () => {
    const info = await generateTinyModel(join(root, 'vocab'), { kind: 'encoder', vocab: { size: 5000 } })
    const tokenizer = await AutoTokenizer.from_pretrained(info.dir, { local_files_only: true })
    expect(tokenizer.get_vocab().size).toBe(5000)
    const tokens = tokenizer.tokenize('Zyxwv QUUX-42 retrieval, naïve ~weird_tokens!')
    expect(tokens).not.toContain('[UNK]')
    expect(tokenizer.tokenize('the model answers the question')).toEqual(['the', 'model', 'answers', 'the', 'question'])
  })
})

describe('ensureTinyModels', () => {
  it('generates once, then reuses, and regenerates when the content changed', async () => {
    const dirs = await ensureTinyModels(join(root, 'shared'))
    const marker = join(dirs.embedder, TINY_MARKER_FILE)
    const first = (await stat(marker)).mtimeMs
    await ensureTinyModels(join(root, 'shared'))
    expect((await stat(marker)).mtimeMs).toBe(first)
    await writeFile(marker, '{"sha256":"stale"}')
    await ensureTinyModels(join(root, 'shared'))
    expect(await readFile(marker, 'utf8')).not.toContain('stale')
    expect(JSON.parse(await readFile(join(dirs.reranker, 'config.json'), 'utf8')).architectures).toEqual(['BertForSequenceClassification'])
  })
})

// ---- A plain TypeScript BERT forward (float64), to check the ONNX graph computes the same thing.

function erf(x: number): number {
  // Abramowitz & Stegun 7.1.26, |error| < 1.5e-7.
  const t = 1 / (1 + 0.3275911 * Math.abs(x))
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x)
  return x >= 0 ? y : -y
}

const linear = (x: number[], l: Linear): number[] =>
  Array.from({ length: l.outFeatures }, (_, o) => x.reduce((s, v, i) => s + v * (l.weight[i * l.outFeatures + o] as number), l.bias[o] as number))

function layerNorm(x: number[], n: LayerNormWeights): number[] {
  const mean = x.reduce((a, b) => a + b, 0) / x.length
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + LAYER_NORM_EPSILON)) * (n.gamma[i] as number) + (n.beta[i] as number))
}

function referenceForward(shape: BertShape, w: BertWeights, ids: number[], types: number[], mask: number[]): number[][] {
  const h = shape.hiddenSize
  const row = (table: Float32Array, r: number): number[] => Array.from(table.subarray(r * h, (r + 1) * h))
  let x = ids.map((id, s) => {
    const sum = row(w.wordEmbeddings, id).map((v, i) => v + (row(w.positionEmbeddings, s)[i] as number) + (row(w.tokenTypeEmbeddings, types[s] as number)[i] as number))
    return layerNorm(sum, w.embeddingNorm)
  })
  const d = h / shape.heads
  for (const layer of w.layers) {
    const q = x.map((v) => linear(v, layer.query))
    const k = x.map((v) => linear(v, layer.key))
    const v = x.map((v) => linear(v, layer.value))
    const context = x.map((_, s) => {
      const out = new Array<number>(h).fill(0)
      for (let head = 0; head < shape.heads; head++) {
        const scores = k.map((kt, t) => {
          if (mask[t] === 0) return -Infinity
          let dot = 0
          for (let i = head * d; i < (head + 1) * d; i++) dot += (q[s] as number[])[i]! * kt[i]!
          return dot / Math.sqrt(d)
        })
        const max = Math.max(...scores)
        const exps = scores.map((sc) => Math.exp(sc - max))
        const total = exps.reduce((a, b) => a + b, 0)
        exps.forEach((e, t) => {
          for (let i = head * d; i < (head + 1) * d; i++) out[i]! += (e / total) * (v[t] as number[])[i]!
        })
      }
      return out
    })
    const attended = context.map((c, s) => layerNorm(linear(c, layer.attentionOutput).map((a, i) => a + x[s]![i]!), layer.attentionNorm))
    x = attended.map((a) => {
      const up = linear(a, layer.intermediate).map((u) => 0.5 * u * (1 + erf(u / Math.SQRT2)))
      return layerNorm(linear(up, layer.output).map((o, i) => o + a[i]!), layer.outputNorm)
    })
  }
  return x
}

describe('the generated ONNX graph', () => {
  const options: Partial<TinyModelOptions> = { hiddenSize: 32, layers: 2, heads: 4, intermediateSize: 48, maxPositions: 32, weights: 'random', seed: 3 }
  const batch = {
    ids: [[2, 120, 130, 140, 150, 3], [2, 200, 3, 210, 3, 0]],
    types: [[0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 0]],
    mask: [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]],
  }
  const tensors = (): Record<string, Tensor> => ({
    input_ids: new Tensor('int64', BigInt64Array.from(batch.ids.flat().map(BigInt)), [2, 6]),
    token_type_ids: new Tensor('int64', BigInt64Array.from(batch.types.flat().map(BigInt)), [2, 6]),
    attention_mask: new Tensor('int64', BigInt64Array.from(batch.mask.flat().map(BigInt)), [2, 6]),
  })

  it('matches a reference BERT forward (encoder, with padding and token types)', async () => {
    const info = await generateTinyModel(join(root, 'ref-encoder'), { ...options, kind: 'encoder' })
    const shape: BertShape = { ...info.options, vocabSize: buildVocab('tiny').length, typeVocabSize: 2 }
    const weights = randomBertWeights(shape, info.options.seed)
    const model = await AutoModel.from_pretrained(info.dir, { local_files_only: true })
    const out = ((await model(tensors())) as { last_hidden_state: Tensor }).last_hidden_state
    expect(out.dims).toEqual([2, 6, 32])
    const got = out.data as Float32Array
    for (let b = 0; b < 2; b++) {
      const want = referenceForward(shape, weights, batch.ids[b]!, batch.types[b]!, batch.mask[b]!)
      want.flat().forEach((v, i) => expect(got[b * 6 * 32 + i]).toBeCloseTo(v, 3))
    }
    await model.dispose()
  })

  it('matches a reference forward through the classification head (cross-encoder)', async () => {
    const info = await generateTinyModel(join(root, 'ref-cross'), { ...options, kind: 'cross-encoder' })
    const shape: BertShape = { ...info.options, vocabSize: buildVocab('tiny').length, typeVocabSize: 2 }
    const weights = randomBertWeights(shape, info.options.seed)
    const model = await AutoModelForSequenceClassification.from_pretrained(info.dir, { local_files_only: true })
    const logits = ((await model(tensors())) as { logits: Tensor }).logits
    expect(logits.dims).toEqual([2, 1])
    for (let b = 0; b < 2; b++) {
      const cls = referenceForward(shape, weights, batch.ids[b]!, batch.types[b]!, batch.mask[b]!)[0]!
      const pooled = linear(cls, weights.head!.pooler).map(Math.tanh)
      expect((logits.data as Float32Array)[b]).toBeCloseTo(linear(pooled, weights.head!.classifier)[0]!, 3)
    }
    await model.dispose()
  })
})
