import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seededUniform } from '../../models/seeded-random.js'
import type { LoraPair, LoraWeights } from '../lora-weights.js'
import { convertPeftToGguf, exportPeft, loraFromPeft } from './convert.js'
import { PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, parsePeftTensorName, peftAdapterConfig, peftTensorName, readPeftAdapter, writePeftAdapter } from './peft.js'
import { permuteRowsGgufToHf } from './rope-permute.js'
import type { SafetensorsTensor } from './safetensors.js'
import { readSafetensors } from './safetensors.js'

/** A rank-2 adapter on every linear layer of one block: hidden 16, 4 heads (2 kv), ffn 24. */
function smallLora(): LoraWeights {
  const shapes = { attn_q: [16, 16], attn_k: [16, 8], attn_v: [16, 8], attn_output: [16, 16], ffn_gate: [16, 24], ffn_up: [16, 24], ffn_down: [24, 16] } as const
  const pairs = new Map(
    Object.entries(shapes).map(([target, [inputs, outputs]]) => [
      `blk.0.${target}`,
      { inputs, outputs, a: seededUniform(`${target}.a`, 1, 2 * inputs, 1), b: seededUniform(`${target}.b`, 1, outputs * 2, 1) },
    ]),
  )
  return { rank: 2, alpha: 4, targets: ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'], pairs }
}

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ragtune-peft-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('exportPeft', () => {
  it('writes HF names, [r, in] / [out, r] shapes, q/k B rows in rotate-half order and a plain LoRA config', async () => {
    const lora = smallLora()
    const out = await exportPeft(lora, { dir: join(dir, 'export'), heads: 4, kvHeads: 2, baseModelName: 'HuggingFaceTB/SmolLM2-135M-Instruct', dropout: 0.05 })
    const config = JSON.parse(await readFile(join(dir, 'export', PEFT_CONFIG_FILE), 'utf8')) as Record<string, unknown>
    expect(config).toMatchObject({
      peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 2, lora_alpha: 4, lora_dropout: 0.05, bias: 'none', fan_in_fan_out: false, use_rslora: false, use_dora: false,
      target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
      base_model_name_or_path: 'HuggingFaceTB/SmolLM2-135M-Instruct',
    })
    const { tensors, metadata } = await readSafetensors(out.weights.path)
    expect(metadata).toEqual({ format: 'pt' })
    expect(tensors.get('base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight')?.shape).toEqual([2, 16])
    expect(tensors.get('base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight')?.shape).toEqual([8, 2])
    expect(tensors.get('base_model.model.model.layers.0.mlp.down_proj.lora_A.weight')?.shape).toEqual([2, 24])
    const p = (t: string): LoraPair => lora.pairs.get(`blk.0.${t}`) as LoraPair
    expect(tensors.get(peftTensorName(0, 'attn_q', 'A'))?.values).toEqual(p('attn_q').a)
    expect(tensors.get(peftTensorName(0, 'attn_q', 'B'))?.values).toEqual(permuteRowsGgufToHf(p('attn_q').b, 16, 2, 4))
    expect(tensors.get(peftTensorName(0, 'attn_k', 'B'))?.values).toEqual(permuteRowsGgufToHf(p('attn_k').b, 8, 2, 2))
    expect(tensors.get(peftTensorName(0, 'attn_v', 'B'))?.values).toEqual(p('attn_v').b)
  })

  it('round-trips through readPeftAdapter and loraFromPeft to the same weights', async () => {
    const lora = smallLora()
    await exportPeft(lora, { dir: join(dir, 'rt'), heads: 4, kvHeads: 2, baseModelName: 'b' })
    const back = loraFromPeft(await readPeftAdapter(join(dir, 'rt')), { architecture: 'llama', heads: 4, kvHeads: 2 })
    expect(back.rank).toBe(2)
    expect(back.alpha).toBe(4)
    expect(back.targets).toEqual(lora.targets)
    expect(back.pairs).toEqual(lora.pairs)
  })
})

describe('parsePeftTensorName', () => {
  it('maps HF module names to GGUF targets and refuses the rest', () => {
    expect(parsePeftTensorName('base_model.model.model.layers.12.mlp.gate_proj.lora_B.weight')).toEqual({ layer: 12, target: 'ffn_gate', part: 'B' })
    expect(parsePeftTensorName('base_model.model.model.layers.0.self_attn.o_proj.lora_A.weight')).toEqual({ layer: 0, target: 'attn_output', part: 'A' })
    expect(parsePeftTensorName('base_model.model.lm_head.lora_A.weight')).toBeUndefined()
    expect(parsePeftTensorName('base_model.model.model.layers.0.self_attn.q_proj.lora_A.bias')).toBeUndefined()
    expect(parsePeftTensorName('base_model.model.model.embed_tokens.lora_embedding_A')).toBeUndefined()
  })
})

/** A PEFT folder with one q_proj pair and config overrides. */
async function peftDir(name: string, overrides: Record<string, unknown>, tensors?: Map<string, SafetensorsTensor>): Promise<string> {
  const path = join(dir, name)
  const base = peftAdapterConfig({ rank: 2, alpha: 16, dropout: 0, targets: ['attn_q'], baseModelName: 'm' })
  const t =
    tensors ??
    new Map<string, SafetensorsTensor>([
      [peftTensorName(0, 'attn_q', 'A'), { dtype: 'BF16', shape: [2, 16], values: seededUniform('a', 1, 32, 1) }],
      [peftTensorName(0, 'attn_q', 'B'), { dtype: 'F16', shape: [16, 2], values: seededUniform('b', 1, 32, 1) }],
    ])
  await writePeftAdapter(path, base, t)
  await writeFile(join(path, PEFT_CONFIG_FILE), JSON.stringify({ ...base, ...overrides }))
  return path
}

describe('readPeftAdapter / convertPeftToGguf rejections', () => {
  const shape = { architecture: 'llama', heads: 4, kvHeads: 2 }
  const convert = (peft: string): Promise<unknown> => convertPeftToGguf({ peftDir: peft, base: shape, out: join(peft, 'out.gguf') })

  it('converts BF16/F16 tensors and PEFT-only fields it can ignore', async () => {
    const peft = await peftDir('halves', { layers_to_transform: null, init_lora_weights: true, alpha_pattern: {}, rank_pattern: {}, modules_to_save: null })
    const adapter = await readPeftAdapter(peft)
    expect(adapter.tensors.get(peftTensorName(0, 'attn_q', 'A'))?.dtype).toBe('BF16')
    await expect(convert(peft)).resolves.toMatchObject({ rank: 2, alpha: 16 })
  })

  it.each([
    ['rslora', { use_rslora: true }, /use_rslora is true .*fix: .*use_rslora=False/s],
    ['dora', { use_dora: true }, /use_dora is true .*use_dora=False/s],
    ['saved modules', { modules_to_save: ['lm_head'] }, /modules_to_save is \["lm_head"\]/],
    ['alpha pattern', { alpha_pattern: { q_proj: 32 } }, /alpha_pattern is \{"q_proj":32\} .*alpha_pattern=\{\}/s],
    ['rank pattern', { rank_pattern: { 'model.layers.0.self_attn.q_proj': 8 } }, /rank_pattern is/],
    ['unmappable targets', { target_modules: ['q_proj', 'embed_tokens', 'lm_head'] }, /target_modules \["embed_tokens","lm_head"\] have no GGUF LoRA equivalent/],
    ['bias', { bias: 'all' }, /bias is "all"/],
    ['another PEFT method', { peft_type: 'IA3' }, /expected peft_type "LORA", got "IA3"/],
  ])('rejects %s with UNSUPPORTED_ADAPTER naming the problem and the fix', async (name, overrides, message) => {
    const peft = await peftDir(`bad-${name.replace(/ /g, '-')}`, overrides)
    const error = await convert(peft).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'UNSUPPORTED_ADAPTER' })
    expect((error as Error).message).toMatch(message)
  })

  it('rejects tensors a GGUF LoRA cannot hold and tensors whose rank disagrees with r', async () => {
    const lmHead = new Map<string, SafetensorsTensor>([['base_model.model.lm_head.lora_A.weight', { dtype: 'F32', shape: [2, 16], values: new Float32Array(32) }]])
    await expect(convert(await peftDir('lm-head', {}, lmHead))).rejects.toThrow(/tensor base_model\.model\.lm_head\.lora_A\.weight is not a lora_A\/lora_B/)
    const rank4 = new Map<string, SafetensorsTensor>([[peftTensorName(0, 'attn_q', 'A'), { dtype: 'F32', shape: [4, 8], values: new Float32Array(32) }]])
    await expect(convert(await peftDir('rank4', {}, rank4))).rejects.toThrow(/shape \[4, 8\], expected rank 2 on the first axis/)
    const onlyA = new Map<string, SafetensorsTensor>([[peftTensorName(0, 'attn_q', 'A'), { dtype: 'F32', shape: [2, 16], values: new Float32Array(32) }]])
    await expect(convert(await peftDir('only-a', {}, onlyA))).rejects.toThrow(/blk\.0\.attn_q has only lora_A/)
    await expect(convertPeftToGguf({ peftDir: await peftDir('arch', {}), base: { architecture: 'gpt2', heads: 4, kvHeads: 4 }, out: join(dir, 'x.gguf') })).rejects.toMatchObject({
      code: 'UNSUPPORTED_ARCHITECTURE',
    })
    await expect(readPeftAdapter(join(dir, 'nowhere'))).rejects.toMatchObject({ code: 'ADAPTER_NOT_FOUND' })
    expect(PEFT_WEIGHTS_FILE).toBe('adapter_model.safetensors')
  })
})
