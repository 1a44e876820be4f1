import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RagtuneError } from '../../errors.js'
import type { LinearName } from '../../models/tiny-llama/tiny-llama.js'
import type { SafetensorsTensor } from './safetensors.js'
import { readSafetensors, writeSafetensors } from './safetensors.js'

/**
 * The PEFT adapter folder (`adapter_model.safetensors` + `adapter_config.json`), the format
 * transformers, vLLM and the Hugging Face hub load LoRA adapters in. Tensors keep Hugging Face's
 * orientation: lora_A.weight [r, in], lora_B.weight [out, r]. Reading rejects every PEFT option that
 * a plain GGUF LoRA (y = W·x + alpha/r · B·A·x) cannot express, so a converted adapter never
 * silently computes something else than the one that was trained.
 */

export const PEFT_WEIGHTS_FILE = 'adapter_model.safetensors'
export const PEFT_CONFIG_FILE = 'adapter_config.json'

/** GGUF block tensor → the Hugging Face Llama module it was converted from. */
export const HF_MODULE_OF: Readonly<Record<LinearName, string>> = {
  attn_q: 'self_attn.q_proj',
  attn_k: 'self_attn.k_proj',
  attn_v: 'self_attn.v_proj',
  attn_output: 'self_attn.o_proj',
  ffn_gate: 'mlp.gate_proj',
  ffn_up: 'mlp.up_proj',
  ffn_down: 'mlp.down_proj',
}

const TARGET_OF_HF_NAME = new Map(Object.entries(HF_MODULE_OF).map(([gguf, hf]) => [hf.split('.')[1] as string, gguf as LinearName]))

/** PEFT's `target_modules` short name (q_proj, …) of a GGUF target. */
export function hfTargetName(target: LinearName): string {
  return HF_MODULE_OF[target].split('.')[1] as string
}

/** The GGUF target a PEFT `target_modules` entry (q_proj, or a dotted path ending in it) stands for. */
export function targetOfHfName(name: string): LinearName | undefined {
  return TARGET_OF_HF_NAME.get(name.split('.').pop() as string)
}

/** The tensor name PEFT saves, e.g. base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight. */
export function peftTensorName(layer: number, target: LinearName, part: 'A' | 'B'): string {
  return `base_model.model.model.layers.${layer}.${HF_MODULE_OF[target]}.lora_${part}.weight`
}

const TENSOR_NAME = /^(?:base_model\.model\.)?model\.layers\.(\d+)\.((?:self_attn|mlp)\.[a-z_]+)\.lora_([AB])(?:\.default)?\.weight$/

/** Layer, target and A/B of a saved PEFT tensor name; undefined for anything a GGUF LoRA cannot hold. */
export function parsePeftTensorName(name: string): { layer: number; target: LinearName; part: 'A' | 'B' } | undefined {
  const m = TENSOR_NAME.exec(name)
  if (!m) return undefined
  const target = (Object.keys(HF_MODULE_OF) as LinearName[]).find((t) => HF_MODULE_OF[t] === m[2])
  return target ? { layer: Number(m[1]), target, part: m[3] as 'A' | 'B' } : undefined
}

/** The adapter_config.json fields ragtune writes (PEFT accepts the missing ones at their defaults). */
export interface PeftAdapterConfig {
  peft_type: 'LORA'
  task_type: 'CAUSAL_LM'
  r: number
  lora_alpha: number
  lora_dropout: number
  target_modules: string[]
  bias: 'none'
  fan_in_fan_out: false
  use_rslora: false
  use_dora: false
  modules_to_save: null
  inference_mode: true
  base_model_name_or_path: string
}

/** A config for a plain LoRA on `targets`; `baseModelName` is the HF id or folder the adapter belongs to. */
export function peftAdapterConfig(o: { rank: number; alpha: number; dropout: number; targets: readonly LinearName[]; baseModelName: string }): PeftAdapterConfig {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r: o.rank,
    lora_alpha: o.alpha,
    lora_dropout: o.dropout,
    target_modules: o.targets.map(hfTargetName),
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: false,
    use_dora: false,
    modules_to_save: null,
    inference_mode: true,
    base_model_name_or_path: o.baseModelName,
  }
}

/** Writes the folder; returns the weights file's size and hash for the registry. */
export async function writePeftAdapter(
  dir: string,
  config: PeftAdapterConfig,
  tensors: ReadonlyMap<string, SafetensorsTensor>,
): Promise<{ dir: string; weights: { path: string; bytes: number; sha256: string }; configPath: string }> {
  await mkdir(dir, { recursive: true })
  const weights = await writeSafetensors(join(dir, PEFT_WEIGHTS_FILE), tensors, { format: 'pt' })
  const configPath = join(dir, PEFT_CONFIG_FILE)
  await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`)
  return { dir, weights, configPath }
}

export interface PeftAdapter {
  rank: number
  alpha: number
  baseModelName: string | null
  /** Raw tensors by saved name, Hugging Face orientation. */
  tensors: Map<string, SafetensorsTensor>
  warnings: string[]
}

function unsupported(dir: string, problem: string, hint: string, details: Record<string, unknown>): RagtuneError {
  return new RagtuneError('UNSUPPORTED_ADAPTER', `PEFT adapter ${dir}: ${problem}; a GGUF LoRA cannot express it`, { details: { dir, ...details }, hint })
}

const isEmpty = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'object' && Object.keys(v as object).length === 0)

/** Throws UNSUPPORTED_ADAPTER for any option that changes what the adapter computes beyond alpha/r · B·A. */
function checkConfig(dir: string, c: Record<string, unknown>): { rank: number; alpha: number; warnings: string[] } {
  const retrain = 'retrain with a plain LoRA config (peft LoraConfig with the defaults for this option)'
  if (c.peft_type !== 'LORA') throw unsupported(dir, `expected peft_type "LORA", got ${JSON.stringify(c.peft_type)}`, 'convert a LoRA adapter', { peftType: c.peft_type })
  const rank = c.r
  const alpha = c.lora_alpha
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1 || typeof alpha !== 'number' || !Number.isFinite(alpha)) {
    throw unsupported(dir, `expected a positive integer r and a number lora_alpha, got r=${JSON.stringify(rank)}, lora_alpha=${JSON.stringify(alpha)}`, 'fix adapter_config.json', {})
  }
  if (c.use_rslora === true) throw unsupported(dir, 'use_rslora is true (scaling alpha/√r, not alpha/r)', `${retrain}: use_rslora=False`, { useRslora: true })
  if (c.use_dora === true) throw unsupported(dir, 'use_dora is true (DoRA adds a magnitude vector)', `${retrain}: use_dora=False`, { useDora: true })
  if (!isEmpty(c.modules_to_save)) {
    throw unsupported(dir, `modules_to_save is ${JSON.stringify(c.modules_to_save)} (fully trained copies of those modules)`, `${retrain}: modules_to_save=None`, {
      modulesToSave: c.modules_to_save,
    })
  }
  for (const key of ['alpha_pattern', 'rank_pattern'] as const) {
    if (!isEmpty(c[key])) {
      throw unsupported(dir, `${key} is ${JSON.stringify(c[key])} (per-module alpha or rank)`, `${retrain}: one r and one lora_alpha for every module, ${key}={}`, { [key]: c[key] })
    }
  }
  if (c.bias !== undefined && c.bias !== 'none') throw unsupported(dir, `bias is ${JSON.stringify(c.bias)}`, `${retrain}: bias="none"`, { bias: c.bias })
  if (c.lora_bias === true) throw unsupported(dir, 'lora_bias is true', `${retrain}: lora_bias=False`, { loraBias: true })
  if (c.fan_in_fan_out === true) throw unsupported(dir, 'fan_in_fan_out is true (Conv1D-style transposed weights)', 'train on a model with nn.Linear layers (Llama, Mistral, Qwen2)', {})
  if (Array.isArray(c.target_modules)) {
    const bad = (c.target_modules as unknown[]).filter((m) => typeof m !== 'string' || !targetOfHfName(m))
    if (bad.length > 0) {
      throw unsupported(dir, `target_modules ${JSON.stringify(bad)} have no GGUF LoRA equivalent`, `${retrain}: target_modules from ${[...TARGET_OF_HF_NAME.keys()].join(', ')}`, {
        targetModules: c.target_modules,
      })
    }
  }
  const warnings = c.task_type !== undefined && c.task_type !== 'CAUSAL_LM' ? [`task_type is ${JSON.stringify(c.task_type)}, expected CAUSAL_LM`] : []
  return { rank, alpha, warnings }
}

/**
 * Reads a PEFT LoRA folder, checking its config and that every tensor is a lora_A/lora_B of a
 * Llama-style linear layer with the config's rank (throws UNSUPPORTED_ADAPTER otherwise).
 */
export async function readPeftAdapter(dir: string): Promise<PeftAdapter> {
  let raw: Record<string, unknown>
  try {
    raw = JSON.parse(await readFile(join(dir, PEFT_CONFIG_FILE), 'utf8')) as Record<string, unknown>
  } catch (error) {
    throw new RagtuneError('ADAPTER_NOT_FOUND', `expected a PEFT adapter folder with ${PEFT_CONFIG_FILE} at ${dir}: ${String(error)}`, {
      details: { dir },
      hint: 'pass the folder that peft model.save_pretrained() wrote',
      cause: error,
    })
  }
  const { rank, alpha, warnings } = checkConfig(dir, raw)
  const { tensors } = await readSafetensors(join(dir, PEFT_WEIGHTS_FILE))
  for (const [name, t] of tensors) {
    const parsed = parsePeftTensorName(name)
    if (!parsed) {
      throw unsupported(dir, `tensor ${name} is not a lora_A/lora_B of a q/k/v/o/gate/up/down projection`, 'train LoRA only on those linear layers, without bias or saved modules', {
        tensor: name,
      })
    }
    const rankDim = parsed.part === 'A' ? t.shape[0] : t.shape[1]
    if (t.shape.length !== 2 || rankDim !== rank) {
      throw unsupported(dir, `tensor ${name} has shape [${t.shape.join(', ')}], expected rank ${rank} on the ${parsed.part === 'A' ? 'first' : 'second'} axis`, 'check r in adapter_config.json', {
        tensor: name,
        shape: t.shape,
        rank,
      })
    }
  }
  const base = raw.base_model_name_or_path
  return { rank, alpha, baseModelName: typeof base === 'string' ? base : null, tensors, warnings }
}
