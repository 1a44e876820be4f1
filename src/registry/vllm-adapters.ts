import { posix } from 'node:path'
import { RagtuneError } from '../errors.js'
import type { AdapterRecord } from '../spec/adapter-registry.js'

export interface LoadVllmAdapterOptions {
  /** The generator's baseURL, e.g. http://gpu-box:8000/v1. */
  baseURL: string
  /** Served model name of the adapter: requests then name it as their model. */
  name: string
  /** The PEFT adapter folder as the vLLM host sees it (adapter_config.json + adapter_model.safetensors). */
  path: string
  apiKey?: string
  signal?: AbortSignal
  timeoutMs?: number
}

/**
 * Where vLLM finds a registered adapter: `<adapterRoot>/<name>` when the config says where the vLLM
 * host keeps them, else the registered file's folder (a disk both hosts share). `ragtune train`
 * writes the PEFT files vLLM reads next to the GGUF it registers.
 */
export function vllmAdapterPath(record: Pick<AdapterRecord, 'name' | 'filePath'>, adapterRoot: string | undefined): string {
  if (adapterRoot) return posix.join(adapterRoot, record.name)
  if (!record.filePath) throw new RagtuneError('ADAPTER_FILE_NOT_FOUND', `adapter "${record.name}" has no registered file`, { hint: 'register it with `ragtune adapter add <name> <file>`' })
  return posix.dirname(record.filePath)
}

/**
 * Loads a LoRA adapter into a running vLLM server (POST /v1/load_lora_adapter; the server must run
 * with VLLM_ALLOW_RUNTIME_LORA_UPDATING=True), so a promotion serves an adapter vLLM was not
 * started with. An adapter the server already holds under that name counts as loaded.
 */
export async function loadVllmAdapter(opts: LoadVllmAdapterOptions): Promise<'loaded' | 'already-loaded'> {
  const url = `${opts.baseURL.replace(/\/+$/, '')}/load_lora_adapter`
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 120_000)
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) },
      body: JSON.stringify({ lora_name: opts.name, lora_path: opts.path }),
      signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
    })
  } catch (err) {
    throw new RagtuneError('GENERATOR_UNREACHABLE', `cannot reach ${url} to load adapter "${opts.name}": ${(err as Error).message}`, {
      details: { url, adapter: opts.name },
      hint: 'is the vLLM server running, and is generator.baseURL right?',
      cause: err,
    })
  }
  const body = (await res.text().catch(() => '')).slice(0, 500)
  if (res.ok) return 'loaded'
  if (res.status === 400 && /already (been )?loaded/i.test(body)) return 'already-loaded'
  throw new RagtuneError('ADAPTER_LOAD_FAILED', `vLLM refused to load adapter "${opts.name}" from ${opts.path}: HTTP ${res.status} ${body}`, {
    details: { url, adapter: opts.name, path: opts.path, status: res.status },
    hint: res.status === 404
      ? 'start vLLM with --enable-lora and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True, or turn generator.vllm.loadAdapters off and preload adapters with --lora-modules'
      : 'the path must be a PEFT adapter folder the vLLM host can read (set generator.vllm.adapterRoot when its disk differs from ours)',
  })
}
