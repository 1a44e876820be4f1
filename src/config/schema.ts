import { z } from 'zod'
import { analyzeRulesSchema } from '../analyze/rules.js'
import { evalConfigSchema } from '../eval/eval-config.js'
import { openaiEmbedderSchema } from '../models/openai/openai-embedding-config.js'
import { cohereRerankerSchema } from '../models/cohere/cohere-config.js'
import { vectorsSchema } from '../store/pinecone/pinecone-config.js'
import { scheduleConfigSchema } from '../schedule/schedule-config.js'

/** Real hub models are the defaults for users; tests and the offline demo point these at tiny local models. */
export const DEFAULT_EMBEDDER = 'Xenova/bge-small-en-v1.5'
export const DEFAULT_RERANKER = 'Xenova/ms-marco-MiniLM-L-6-v2'

const docs = z.strictObject({
  /** Folder indexed by `ragtune index` when no folder is given. */
  root: z.string().default('docs'),
  include: z.array(z.string()).default(['**/*']),
  exclude: z.array(z.string()).default(['**/node_modules/**', '**/.git/**', '**/.ragtune/**']),
  maxFileBytes: z.number().int().positive().default(20 * 1024 * 1024),
})

/** ONNX weight variants transformers.js can load (`q8` = the hub's model_quantized.onnx). */
const dtype = z.enum(['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'bnb4', 'q4f16']).optional()

const embedder = z.strictObject({
  /** `transformers`: a local ONNX model; `openai`: any server with /v1/embeddings (TEI, vLLM, Ollama, OpenAI). */
  provider: z.enum(['transformers', 'openai']).default('transformers'),
  /** transformers: hub id or local folder; openai: the model name on the server. */
  model: z.string().default(DEFAULT_EMBEDDER),
  /** Default fp32; q8 is several times faster on CPUs, at a small cost in fidelity. */
  dtype,
  batchSize: z.number().int().positive().default(32),
  /** Prepended to queries only; null disables, undefined means the model's own default (bge). */
  queryInstruction: z.string().nullable().optional(),
  /** Used when provider is `openai` (src/models/openai/openai-embedding-config.ts). */
  openai: openaiEmbedderSchema.prefault({}),
})

const reranker = z.strictObject({
  /** `transformers`: a local ONNX cross-encoder; `cohere`: Cohere Rerank (the model defaults to rerank-english-v3.0). */
  provider: z.enum(['transformers', 'cohere']).default('transformers'),
  model: z.string().default(DEFAULT_RERANKER),
  dtype,
  batchSize: z.number().int().positive().default(16),
  /** Used when provider is `cohere` (src/models/cohere/cohere-config.ts). */
  cohere: cohereRerankerSchema.prefault({}),
})

const models = z.strictObject({
  /** Never touch the network: a missing model is an error that says how to get it. */
  offline: z.boolean().default(false),
  /** Where downloaded models are cached; default: `<dataDir>/models`. */
  cacheDir: z.string().optional(),
  embedder: embedder.prefault({}),
  reranker: reranker.prefault({}),
})

const chunking = z
  .strictObject({
    chunkTokens: z.number().int().min(16).default(512),
    overlapTokens: z.number().int().min(0).default(64),
  })
  .refine((c) => c.overlapTokens < c.chunkTokens, { message: 'chunking.overlapTokens must be smaller than chunking.chunkTokens', path: ['overlapTokens'] })

const store = z.strictObject({
  lexical: z.enum(['auto', 'bm25', 'tsvector']).default('auto'),
  /**
   * A PostgreSQL server with pgvector (postgres://user@host:5432/db) instead of the embedded store
   * under dataDir; several processes can share it. The password belongs in PGPASSWORD or ~/.pgpass.
   */
  url: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL').optional(),
  /** Server store: the schema holding ragtune's tables, so several indexes can share one database. */
  schema: z.string().default('public'),
  /** Server store: most pooled connections per process. */
  poolSize: z.number().int().min(2).default(10),
  /** Where dense vectors live: local pgvector (default) or a Pinecone index (src/store/pinecone/pinecone-config.ts). */
  vectors: vectorsSchema,
})

export const retrievalModes = ['dense', 'lexical', 'hybrid'] as const
export type RetrievalMode = (typeof retrievalModes)[number]

const retrieval = z.strictObject({
  mode: z.enum(retrievalModes).default('hybrid'),
  denseK: z.number().int().positive().default(20),
  lexicalK: z.number().int().positive().default(20),
  /** How many fused candidates go to the reranker. */
  candidates: z.number().int().positive().default(20),
  /** Reciprocal rank fusion constant (Cormack et al. use 60). */
  rrfK: z.number().positive().default(60),
  topK: z.number().int().positive().default(4),
  rerank: z.boolean().default(true),
})

const observe = z.strictObject({
  /** Days the query log keeps a query (and its labels); null keeps everything. */
  retentionDays: z.number().int().positive().nullable().default(null),
  /** Log the full prompt (retrieved chunks included) with each query. */
  logPrompts: z.boolean().default(true),
})

/** The cpu profile's default generator: small enough for 2 cores, downloaded on first use. */
export const DEFAULT_GENERATOR_MODEL = 'hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q8_0.gguf'

const vllmSchema = z.strictObject({
  /**
   * Before serving a newly promoted adapter, load it into vLLM with POST /v1/load_lora_adapter
   * (vLLM started with VLLM_ALLOW_RUNTIME_LORA_UPDATING=True); off: adapters are preloaded (--lora-modules).
   */
  loadAdapters: z.boolean().default(false),
  /** Folder where the vLLM host sees adapters (lora_path = <adapterRoot>/<name>); default: the registered file's folder, for a shared disk. */
  adapterRoot: z.string().optional(),
})

const generator = z.strictObject({
  /** `llama`: a local GGUF through node-llama-cpp; `openai`: any OpenAI-compatible server. */
  provider: z.enum(['llama', 'openai']).default('llama'),
  /** llama: a GGUF path, an `hf:` URI (downloaded once) or "tiny"; openai: the model name on the server. */
  model: z.string().default(DEFAULT_GENERATOR_MODEL),
  /** llama: a GGUF LoRA adapter file; openai (vLLM multi-LoRA): the adapter's served model name. */
  adapter: z.string().nullable().default(null),
  /** openai: e.g. http://localhost:8000/v1. */
  baseURL: z.string().optional(),
  /** openai: name of the environment variable holding the API key (keys never go in the config file). */
  apiKeyEnv: z.string().default('OPENAI_API_KEY'),
  /** openai + vLLM multi-LoRA: how promotions reach the server (src/registry/vllm-adapters.ts). */
  vllm: vllmSchema.prefault({}),
  threads: z.number().int().positive().optional(),
  /** llama: false runs on the CPU; "cuda" (or "auto", "vulkan", "metal") offloads every layer to the GPU (node-llama-cpp's prebuilt binaries). */
  gpu: z.union([z.literal(false), z.enum(['auto', 'cuda', 'vulkan', 'metal'])]).default(false),
  contextSize: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).default(0.1),
  maxTokens: z.number().int().positive().default(512),
})

/** `ragtune serve`: loopback and closed to browsers by default; limits sized for a small CPU box. */
const server = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port (printed at start). */
  port: z.number().int().min(0).max(65535).default(8787),
  /** Larger request bodies are refused with 413. */
  bodyLimitBytes: z.number().int().positive().default(1024 * 1024),
  /** Answers generated at once; more wait in the queue. */
  // One: the generator runs one answer at a time anyway, and a second slot only makes retrieval and
  // reranking compete with generation for the cores (bench/serve: 0.49 vs 0.39 req/s on 2 cores).
  maxConcurrent: z.number().int().positive().default(1),
  /** Answers waiting for a slot; beyond this the server answers 503 with Retry-After. */
  maxQueue: z.number().int().min(0).default(32),
  /** Deadline of one request, queueing included (504 after it); also the shutdown grace period. */
  requestTimeoutMs: z.number().int().positive().default(120_000),
  /** Browser origins allowed to call the API ("*" for any); none by default. */
  cors: z.strictObject({ origins: z.array(z.string().min(1)).default([]) }).prefault({}),
})

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  dataDir: z.string().default('.ragtune'),
  docs: docs.prefault({}),
  models: models.prefault({}),
  chunking: chunking.prefault({}),
  store: store.prefault({}),
  retrieval: retrieval.prefault({}),
  observe: observe.prefault({}),
  generator: generator.prefault({}),
  server: server.prefault({}),
  /** Failure detectors' rules: what a good answer looks like (src/analyze/rules.ts). */
  analyze: analyzeRulesSchema.prefault({}),
  /** Eval set and promotion gate (src/eval/eval-config.ts). */
  eval: evalConfigSchema.prefault({}),
  /** Re-index and retrain on cron schedules (src/schedule/schedule-config.ts). */
  schedule: scheduleConfigSchema.prefault({}),
})

export type RagtuneConfig = z.output<typeof configSchema>
export type RagtuneConfigInput = z.input<typeof configSchema>
