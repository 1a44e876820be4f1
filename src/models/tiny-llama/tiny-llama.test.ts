import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MIN_VOCAB_SIZE, buildByteBpeVocab, byteToUnicode } from './byte-bpe-vocab.js'
import { TINY_LLAMA_MARKER_FILE, buildTinyLlamaFiles, ensureTinyLlama, hashTinyLlamaFiles } from './ensure-tiny-llama.js'
import { encodeGguf } from './gguf-writer.js'
import { SMOLLM2_135M_SHAPE, tinyLlamaGguf } from './tiny-llama.js'
import { tinyLoraGguf } from './tiny-lora.js'

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ragtune-tiny-llama-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

describe('tinyLlamaGguf', () => {
  it('gives the same bytes on every platform (pinned hashes; update them only on purpose)', () => {
    // The smallest vocabulary (bytes + control tokens) keeps these independent of the word list.
    expect(sha256(encodeGguf(tinyLlamaGguf({ vocabSize: MIN_VOCAB_SIZE, type: 'f32' })))).toBe('d8aae17ebf6787a06c06c708a7b01b3383814728dc036afe37079ae505dddeab')
    expect(sha256(encodeGguf(tinyLlamaGguf({ vocabSize: MIN_VOCAB_SIZE, type: 'q8_0' })))).toBe('208a5bbdb522c6dddb0dd5c59cd627eeaae5accacdf986ec6cdf7ebcbf36d93b')
    expect(sha256(encodeGguf(tinyLoraGguf({ vocabSize: MIN_VOCAB_SIZE })))).toBe('1b73b79dc9a0262639ecac21472a2c6a74666078ecb3c0e16fbe2cce00b2293c')
    expect(sha256(encodeGguf(tinyLlamaGguf({ seed: 1 })))).not.toBe(sha256(encodeGguf(tinyLlamaGguf({ seed: 2 }))))
  })

  it('writes untied models with output.weight and tied ones without', () => {
    const names = (tied: boolean): string[] => tinyLlamaGguf({ tied }).tensors.map((t) => t.name)
    expect(names(false)).toContain('output.weight')
    expect(names(true)).not.toContain('output.weight')
    expect(names(true)).toEqual(expect.arrayContaining(['token_embd.weight', 'blk.1.attn_k.weight', 'blk.1.ffn_down.weight', 'output_norm.weight']))
  })

  it('has the real SmolLM2-135M shapes in the benchmark preset (values are generated only when written)', () => {
    const file = tinyLlamaGguf({ ...SMOLLM2_135M_SHAPE, type: 'q8_0' })
    const params = file.tensors.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0)
    expect(params).toBe(134_515_008)
    expect(file.tensors.find((t) => t.name === 'blk.0.attn_k.weight')?.dims).toEqual([576, 192])
    expect(file.tensors.find((t) => t.name === 'blk.0.attn_norm.weight')?.type).toBe('f32')
  })

  it('rejects shapes llama.cpp cannot run', () => {
    expect(() => tinyLlamaGguf({ hiddenSize: 60, heads: 8 })).toThrow(/multiple of heads/)
    expect(() => tinyLlamaGguf({ heads: 4, kvHeads: 3 })).toThrow(/multiple of kvHeads/)
    expect(() => tinyLlamaGguf({ vocabSize: 100 })).toThrow(/at least 259/)
    expect(() => encodeGguf(tinyLlamaGguf({ hiddenSize: 48, heads: 4, type: 'q8_0' }))).toThrow(/multiple of 32/)
  })
})

describe('buildByteBpeVocab', () => {
  it('has exactly the requested size, unique tokens, and merges that only build tokens', () => {
    for (const size of [MIN_VOCAB_SIZE, 1024, 5000]) {
      const vocab = buildByteBpeVocab(size)
      expect(vocab.tokens).toHaveLength(size)
      expect(new Set(vocab.tokens).size).toBe(size)
      const known = new Set(vocab.tokens)
      for (const merge of vocab.merges) {
        const [left, right] = merge.split(' ') as [string, string]
        expect(known.has(left) && known.has(right) && known.has(left + right)).toBe(true)
      }
      expect(vocab.tokens.slice(-3)).toEqual(['<|endoftext|>', '<|im_start|>', '<|im_end|>'])
      expect([...vocab.tokenTypes.slice(-4)]).toEqual([1, 3, 3, 3])
    }
    expect(buildByteBpeVocab(1024).tokens).toContain('Ġthe')
  })

  it('maps all 256 bytes to distinct printable characters, as GPT-2 does', () => {
    const chars = byteToUnicode()
    expect(new Set(chars).size).toBe(256)
    expect([chars[0x20], chars[0x0a], chars[0x41]]).toEqual(['Ġ', 'Ċ', 'A'])
  })
})

describe('ensureTinyLlama', () => {
  it('generates once, reuses, and regenerates when the content changed', async () => {
    const paths = await ensureTinyLlama(join(root, 'shared'))
    const marker = join(root, 'shared', 'tiny-llama', TINY_LLAMA_MARKER_FILE)
    const first = (await stat(marker)).mtimeMs
    expect(await ensureTinyLlama(join(root, 'shared'))).toEqual(paths)
    expect((await stat(marker)).mtimeMs).toBe(first)
    const expected = hashTinyLlamaFiles(buildTinyLlamaFiles())
    expect(JSON.parse(await readFile(marker, 'utf8'))).toEqual({ sha256: expected })
    await writeFile(marker, '{"sha256":"stale"}')
    await ensureTinyLlama(join(root, 'shared'))
    expect(JSON.parse(await readFile(marker, 'utf8'))).toEqual({ sha256: expected })
    const sizes = await Promise.all([paths.f32, paths.q8_0, paths.lora].map(async (p) => (await stat(p)).size))
    expect(sizes[0]).toBeGreaterThan(sizes[1] as number)
    expect(sizes.reduce((a, b) => a + b)).toBeLessThan(1_500_000)
  })

  it('survives parallel callers', async () => {
    const all = await Promise.all([1, 2, 3].map(() => ensureTinyLlama(join(root, 'parallel'))))
    expect(new Set(all.map((p) => p.f32)).size).toBe(1)
  })
})
