import { open } from 'node:fs/promises'
import { RagtuneError } from '../../errors.js'
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC } from '../tiny-llama/gguf-writer.js'
import { ggmlBytes } from './ggml-types.js'

/**
 * Reads a GGUF file (v2/v3): metadata and tensor data, little-endian. The trainer needs the frozen
 * base weights exactly as the serving file holds them (f32, f16 or q8_0 bytes, dequantized later),
 * so this returns raw tensor bytes and never converts. The whole file is read into memory: a
 * quantized model is what the trainer keeps resident anyway.
 */

/** ggml type codes this reader names; others keep their number and are rejected where used. */
const GGML_TYPE_NAMES: Record<number, string> = { 0: 'f32', 1: 'f16', 2: 'q4_0', 3: 'q4_1', 8: 'q8_0', 12: 'q4_k', 13: 'q5_k', 14: 'q6_k', 30: 'bf16' }

export interface GgufTensorInfo {
  name: string
  /** ggml order: dims[0] varies fastest (a matmul weight is [inputs, outputs]). */
  dims: number[]
  type: string
  /** The tensor's bytes, a view into the file buffer. */
  data: Uint8Array
}

export interface GgufContents {
  version: number
  metadata: Map<string, unknown>
  tensors: GgufTensorInfo[]
}

class Cursor {
  private at = 0
  private readonly view: DataView
  constructor(private readonly buf: Uint8Array, private readonly path: string) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  get offset(): number {
    return this.at
  }

  private need(n: number): number {
    if (this.at + n > this.buf.byteLength) {
      throw new RagtuneError('GGUF_INVALID', `${this.path}: truncated GGUF (wanted ${n} bytes at offset ${this.at}, file has ${this.buf.byteLength})`, {
        details: { path: this.path },
        hint: 'the file is incomplete or not a GGUF model; download or convert it again',
      })
    }
    const at = this.at
    this.at += n
    return at
  }

  u8 = (): number => this.view.getUint8(this.need(1))
  i8 = (): number => this.view.getInt8(this.need(1))
  u16 = (): number => this.view.getUint16(this.need(2), true)
  i16 = (): number => this.view.getInt16(this.need(2), true)
  u32 = (): number => this.view.getUint32(this.need(4), true)
  i32 = (): number => this.view.getInt32(this.need(4), true)
  f32 = (): number => this.view.getFloat32(this.need(4), true)
  f64 = (): number => this.view.getFloat64(this.need(8), true)
  u64 = (): number => Number(this.view.getBigUint64(this.need(8), true))
  i64 = (): number => Number(this.view.getBigInt64(this.need(8), true))
  string = (): string => {
    const n = this.u64()
    const at = this.need(n)
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + at, n).toString('utf8')
  }
}

function readValue(c: Cursor, type: number): unknown {
  switch (type) {
    case 0: return c.u8()
    case 1: return c.i8()
    case 2: return c.u16()
    case 3: return c.i16()
    case 4: return c.u32()
    case 5: return c.i32()
    case 6: return c.f32()
    case 7: return c.u8() !== 0
    case 8: return c.string()
    case 9: {
      const itemType = c.u32()
      const n = c.u64()
      const out: unknown[] = new Array(n)
      for (let i = 0; i < n; i++) out[i] = readValue(c, itemType)
      return out
    }
    case 10: return c.u64()
    case 11: return c.i64()
    case 12: return c.f64()
    default:
      throw new RagtuneError('GGUF_INVALID', `unknown GGUF metadata value type ${type}`, { details: { type } })
  }
}

/** Bytes of `count` values of a ggml type; only the types the trainer reads. */
function byteSize(type: string, count: number, name: string): number {
  if (type === 'f32' || type === 'f16' || type === 'bf16' || type === 'q8_0') return ggmlBytes(type, count)
  throw new RagtuneError('GGUF_UNSUPPORTED_TYPE', `tensor ${name} is stored as ${type}; the trainer reads f32, f16 and q8_0`, {
    details: { tensor: name, type },
    hint: 'quantize the base model to Q8_0 (llama-quantize model.gguf out.gguf Q8_0) or use the F16 file',
  })
}

/** Parses a GGUF held in memory. Tensors of types the trainer cannot read get an empty `data`. */
export function parseGguf(buf: Uint8Array, path = '<buffer>'): GgufContents {
  const c = new Cursor(buf, path)
  if (buf.byteLength < 4 || c.u32() !== GGUF_MAGIC) {
    throw new RagtuneError('GGUF_INVALID', `${path} is not a GGUF file (bad magic)`, { details: { path }, hint: 'pass a .gguf model file' })
  }
  const version = c.u32()
  if (version < 2 || version > 3) throw new RagtuneError('GGUF_INVALID', `${path}: GGUF version ${version} is not supported (expected 2 or 3)`, { details: { path, version } })
  const tensorCount = c.u64()
  const metadataCount = c.u64()
  const metadata = new Map<string, unknown>()
  for (let i = 0; i < metadataCount; i++) {
    const key = c.string()
    metadata.set(key, readValue(c, c.u32()))
  }
  const infos: Array<{ name: string; dims: number[]; type: string; offset: number }> = []
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string()
    const nDims = c.u32()
    const dims: number[] = []
    for (let d = 0; d < nDims; d++) dims.push(c.u64())
    const code = c.u32()
    infos.push({ name, dims, type: GGML_TYPE_NAMES[code] ?? `ggml_type_${code}`, offset: c.u64() })
  }
  const alignment = Number(metadata.get('general.alignment') ?? GGUF_DEFAULT_ALIGNMENT)
  const dataStart = Math.ceil(c.offset / alignment) * alignment
  const tensors = infos.map((t): GgufTensorInfo => {
    const count = t.dims.reduce((a, b) => a * b, 1)
    const readable = ['f32', 'f16', 'bf16', 'q8_0'].includes(t.type)
    const size = readable ? byteSize(t.type, count, t.name) : 0
    const start = dataStart + t.offset
    if (start + size > buf.byteLength) {
      throw new RagtuneError('GGUF_INVALID', `${path}: tensor ${t.name} runs past the end of the file`, { details: { path, tensor: t.name }, hint: 'the file is truncated; download or convert it again' })
    }
    return { name: t.name, dims: t.dims, type: t.type, data: buf.subarray(start, start + size) }
  })
  return { version, metadata, tensors }
}

/** Reads and parses a GGUF file from disk. */
export async function readGguf(path: string): Promise<GgufContents> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (cause) {
    throw new RagtuneError('MODEL_NOT_FOUND', `cannot open GGUF ${path}: ${(cause as Error).message}`, { details: { path }, cause })
  }
  try {
    const { size } = await handle.stat()
    const buf = new Uint8Array(size)
    let read = 0
    while (read < size) {
      const { bytesRead } = await handle.read(buf, read, size - read, read)
      if (bytesRead === 0) break
      read += bytesRead
    }
    return parseGguf(buf, path)
  } finally {
    await handle.close()
  }
}
