import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { RagtuneError } from '../../errors.js'
import { f16BitsToF32, f32ToF16Bits } from '../../models/tiny-llama/half-float.js'

/**
 * The safetensors format (Hugging Face's weight files, what PEFT saves adapters in), written and
 * read by hand so adapters move between ragtune and PyTorch without Python: an 8-byte little-endian
 * header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
 * little-endian data. Only the float types LoRA weights come in are supported (F32, F16, BF16).
 */

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16'

export interface SafetensorsTensor {
  dtype: SafetensorsDtype
  /** Row-major shape, outermost first (PyTorch's order). */
  shape: number[]
  values: Float32Array
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsTensor>
  /** The optional `__metadata__` string map. */
  metadata: Record<string, string>
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 }

/** Round to nearest even, as torch's float32 → bfloat16 conversion does; NaN stays NaN. */
function f32ToBf16Bits(value: number, scratch: DataView): number {
  scratch.setFloat32(0, value, true)
  const bits = scratch.getUint32(0, true)
  if (Number.isNaN(value)) return 0x7fc0
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff
}

/** The file's bytes; tensors are laid out in the order given, as safetensors' own writer does. */
export function encodeSafetensors(tensors: ReadonlyMap<string, SafetensorsTensor>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {}
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata
  let offset = 0
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1)
    if (count !== t.values.length) {
      throw new RagtuneError('INVALID_OPTIONS', `safetensors: tensor ${name} has shape [${t.shape.join(', ')}] (${count} values) but ${t.values.length} values were given`, {
        details: { tensor: name, shape: t.shape, values: t.values.length },
      })
    }
    const bytes = count * BYTES[t.dtype]
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] }
    offset += bytes
  }
  // The header is padded with spaces to a multiple of 8 so the data that follows stays aligned.
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8)
  const headerBytes = Buffer.from(json, 'utf8')
  const out = Buffer.alloc(8 + headerBytes.byteLength + offset)
  out.writeBigUInt64LE(BigInt(headerBytes.byteLength), 0)
  headerBytes.copy(out, 8)
  const view = new DataView(out.buffer, out.byteOffset + 8 + headerBytes.byteLength, offset)
  const scratch = new DataView(new ArrayBuffer(4))
  let at = 0
  for (const t of tensors.values()) {
    for (const v of t.values) {
      if (t.dtype === 'F32') view.setFloat32(at, v, true)
      else if (t.dtype === 'F16') view.setUint16(at, f32ToF16Bits(v), true)
      else view.setUint16(at, f32ToBf16Bits(v, scratch), true)
      at += BYTES[t.dtype]
    }
  }
  return out
}

/** Writes the file and returns its size and sha256, for the adapter registry. */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  metadata: Record<string, string> = {},
): Promise<{ path: string; bytes: number; sha256: string }> {
  const bytes = encodeSafetensors(tensors, metadata)
  await writeFile(path, bytes)
  return { path, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') }
}

function invalid(path: string, problem: string, details: Record<string, unknown> = {}): RagtuneError {
  return new RagtuneError('INVALID_SAFETENSORS', `${path} is not a safetensors file ragtune can read: ${problem}`, {
    details: { path, ...details },
    hint: 'pass the adapter_model.safetensors that PEFT saved (F32, F16 or BF16 tensors), or re-save it with safetensors',
  })
}

/** Parses the bytes of a safetensors file; every value is widened to float32. */
export function decodeSafetensors(bytes: Uint8Array, path = '<buffer>'): SafetensorsFile {
  if (bytes.byteLength < 8) throw invalid(path, `expected at least 8 bytes, got ${bytes.byteLength}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLength = Number(view.getBigUint64(0, true))
  if (headerLength > bytes.byteLength - 8) throw invalid(path, `the header claims ${headerLength} bytes but the file has ${bytes.byteLength - 8} after the length`)
  let header: Record<string, unknown>
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLength).toString('utf8')) as Record<string, unknown>
  } catch (error) {
    throw invalid(path, `the header is not JSON (${String(error)})`)
  }
  const dataStart = 8 + headerLength
  const dataLength = bytes.byteLength - dataStart
  const tensors = new Map<string, SafetensorsTensor>()
  let metadata: Record<string, string> = {}
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>
      continue
    }
    const { dtype, shape, data_offsets: range } = (entry ?? {}) as { dtype?: string; shape?: number[]; data_offsets?: [number, number] }
    if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') {
      throw invalid(path, `tensor ${name} has dtype ${String(dtype)}, expected F32, F16 or BF16`, { tensor: name, dtype })
    }
    if (!Array.isArray(shape) || !Array.isArray(range) || range.length !== 2) throw invalid(path, `tensor ${name} lacks shape or data_offsets`, { tensor: name })
    const count = shape.reduce((a, b) => a * b, 1)
    const [begin, end] = range
    if (end - begin !== count * BYTES[dtype] || begin < 0 || end > dataLength) {
      throw invalid(path, `tensor ${name}: data_offsets [${begin}, ${end}] do not fit shape [${shape.join(', ')}] of ${dtype} inside ${dataLength} data bytes`, {
        tensor: name,
      })
    }
    const data = new DataView(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin)
    const values = new Float32Array(count)
    const scratch = new DataView(new ArrayBuffer(4))
    for (let i = 0; i < count; i++) {
      if (dtype === 'F32') values[i] = data.getFloat32(i * 4, true)
      else if (dtype === 'F16') values[i] = f16BitsToF32(data.getUint16(i * 2, true))
      else {
        // bfloat16 is the top half of a float32.
        scratch.setUint32(0, data.getUint16(i * 2, true) << 16, true)
        values[i] = scratch.getFloat32(0, true)
      }
    }
    tensors.set(name, { dtype, shape: [...shape], values })
  }
  return { tensors, metadata }
}

/** Reads and parses a safetensors file from disk. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return decodeSafetensors(await readFile(path), path)
}
