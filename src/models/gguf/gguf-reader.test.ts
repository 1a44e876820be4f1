import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { encodeGguf } from '../tiny-llama/gguf-writer.js'
import { dequantizeQ8_0 } from '../tiny-llama/half-float.js'
import { tinyLlamaGguf } from '../tiny-llama/tiny-llama.js'
import { parseGguf, readGguf } from './gguf-reader.js'

const bytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

describe('readGguf', () => {
  it('reads back what the writer wrote: metadata, dims, types and raw tensor bytes', () => {
    const file = tinyLlamaGguf({ type: 'q8_0' })
    const parsed = parseGguf(bytes(encodeGguf(file)))
    expect(parsed.version).toBe(3)
    expect(parsed.metadata.get('general.architecture')).toBe('llama')
    expect(parsed.metadata.get('llama.embedding_length')).toBe(64)
    expect((parsed.metadata.get('tokenizer.ggml.tokens') as string[]).length).toBe(1024)
    expect(parsed.tensors.map((t) => t.name)).toEqual(file.tensors.map((t) => t.name))
    const q = parsed.tensors.find((t) => t.name === 'blk.0.attn_q.weight')!
    expect(q.dims).toEqual([64, 64])
    expect(q.type).toBe('q8_0')
    const original = file.tensors.find((t) => t.name === 'blk.0.attn_q.weight')!.values()
    const back = dequantizeQ8_0(q.data)
    let worst = 0
    original.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - back[i]!))))
    expect(worst).toBeLessThan(0.01)
    const norm = parsed.tensors.find((t) => t.name === 'blk.0.attn_norm.weight')!
    expect(norm.type).toBe('f32')
    expect(norm.data.byteLength).toBe(64 * 4)
  })

  it('names the problem for a non-GGUF, a truncated file and a missing file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ragtune-gguf-'))
    const notGguf = join(dir, 'x.gguf')
    await writeFile(notGguf, 'hello, not a model')
    await expect(readGguf(notGguf)).rejects.toMatchObject({ code: 'GGUF_INVALID', message: expect.stringContaining('bad magic') })
    const whole = encodeGguf(tinyLlamaGguf())
    const cut = join(dir, 'cut.gguf')
    await writeFile(cut, whole.subarray(0, whole.byteLength - 1000))
    await expect(readGguf(cut)).rejects.toMatchObject({ code: 'GGUF_INVALID', message: expect.stringMatching(/runs past the end|truncated/) })
    await expect(readGguf(join(dir, 'missing.gguf'))).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' })
  })
})
