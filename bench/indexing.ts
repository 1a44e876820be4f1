import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { TransformersEmbeddingModel } from '../src/models/transformers/transformers-embedding-model.js'
import type { EmbeddingModel } from '../src/spec/embedding-model.js'
import { writeCorpus, type CorpusInfo } from './lib/corpus.js'
import { envInt } from './lib/env.js'
import { watchForeignLoad } from './lib/load.js'
import { fmt, note, pct, printTable } from './lib/format.js'
import { BGE_SMALL_ENCODER, ensureBenchModel } from './lib/models.js'
import { chunkTextsLikeIndexer, cpuSince, DEFAULTS, embeddedTokens, paddedTokens, paddedTokensSorted, ragtuneIndexRun, type RagtuneRun } from './lib/ragtune-index.js'
import { CACHE_DIR, type BenchResult } from './lib/results.js'
import { seededRandom, sentence, wordSampler } from './lib/rng.js'
import { median } from './lib/stats.js'
import { langChainIndex, tokenCounter, type LangChainIndexReport } from './langchain/langchain-index.js'
import { TransformersJsEmbeddings } from './langchain/transformers-embeddings.js'

/** What reindex needs from a finished full index. */
export interface FullIndex {
  corpus: CorpusInfo
  storeDir: string
  fullMs: number
  chunks: number
  /** Temporary folder holding storeDir; whoever takes the index removes it. */
  tempRoot: string
}

/** Below this the corpus is too small for stable rates and for a 1% edit to be a small share. */
const MIN_CHUNKS = 100

const METHODS = ['encoder alone', 'ragtune indexFolder', 'LangChain.js'] as const
type Method = (typeof METHODS)[number]

interface Pass {
  method: Method
  round: number
  ms: number
  cpuMs: number
  /** Share of all cores other processes used during the pass. */
  foreignPct: number
  chunks: number
  tokens: number
  detail: Record<string, number>
}

/** `n` texts of about `tokens` tokens: calibration input shaped like full chunks. */
function fullChunkTexts(n: number, tokens: number, embedder: EmbeddingModel): string[] {
  const random = seededRandom(7)
  const word = wordSampler(random)
  return Array.from({ length: n }, () => {
    let text = ''
    while (embedder.countTokens(text) < tokens) text += `${sentence(random, word)} `
    return text
  })
}

/**
 * Picks the corpus size: BENCH_INDEX_CHUNKS when set, else what fits BENCH_INDEX_BUDGET_S for all
 * passes at the encoder's speed, measured on one full batch (at most the 5,000 chunks aimed for).
 */
export async function chooseCorpus(embedder: EmbeddingModel, passes: number, budgetSec: number, batchSize: number): Promise<{ corpus: CorpusInfo; calibration: Record<string, number>; reason: string }> {
  const texts = fullChunkTexts(batchSize, embedder.maxInputTokens, embedder)
  await embedder.doEmbed(texts.slice(0, 4), { kind: 'document' }) // warm-up: the first ONNX run allocates
  const t0 = performance.now()
  await embedder.doEmbed(texts, { kind: 'document' })
  const perSec = texts.length / ((performance.now() - t0) / 1000)
  const fixed = envInt('BENCH_INDEX_CHUNKS', 0)
  const fits = Math.floor((perSec * budgetSec) / passes)
  const target = fixed > 0 ? fixed : Math.max(MIN_CHUNKS, Math.min(5000, fits))
  // ~200 files for 5,000 chunks (25 per file); never under 100 files, so "1% of files" is one file.
  const files = envInt('BENCH_INDEX_FILES', Math.max(100, Math.round(target / 25)))
  const reason =
    fixed > 0
      ? `BENCH_INDEX_CHUNKS=${fixed}`
      : `the encoder embeds ${fmt(perSec)} full 512-token chunks/s here, so 5,000 chunks x ${passes} passes would take ${fmt((5000 * passes) / perSec / 60)} min; ` +
        `${fits} chunks fit the ${budgetSec} s budget (BENCH_INDEX_BUDGET_S), and ${MIN_CHUNKS} is the floor: aiming at ${target} chunks in ${files} files. Rates (chunks/s, tokens/s) do not depend on the size.`
  note(`corpus: ${reason}`)
  const corpus = await writeCorpus(join(CACHE_DIR, 'corpus'), {
    files,
    targetChunks: target,
    chunkTokens: Math.min(DEFAULTS.chunking.chunkTokens, embedder.maxInputTokens),
    overlapTokens: DEFAULTS.chunking.overlapTokens,
    countTokens: (t) => embedder.countTokens(t),
    seed: 1,
  })
  return { corpus, calibration: { chunksPerSec: perSec, fitsChunks: fits, targetChunks: target }, reason }
}

export async function loadBenchEncoder(batchSize: number): Promise<TransformersEmbeddingModel> {
  const dir = await ensureBenchModel('bge-small-random', BGE_SMALL_ENCODER)
  return TransformersEmbeddingModel.load({ model: dir, offline: true, batchSize })
}

export async function runIndexing(keep: { full?: FullIndex }): Promise<BenchResult> {
  const rounds = envInt('BENCH_INDEX_ROUNDS', 3)
  const budget = envInt('BENCH_INDEX_BUDGET_S', 240)
  const batchSize = DEFAULTS.models.embedder.batchSize
  const cores = cpus().length
  const embedder = await loadBenchEncoder(batchSize)
  const lc = new TransformersJsEmbeddings({ model: embedder.id, batchSize, pooling: 'cls', normalize: true })
  const lcCount = await tokenCounter(embedder.id)
  const storeRoot = await mkdtemp(join(tmpdir(), 'ragtune-bench-index-'))
  const chunkTokens = Math.min(DEFAULTS.chunking.chunkTokens, embedder.maxInputTokens)
  try {
    const { corpus, calibration, reason } = await chooseCorpus(embedder, rounds * METHODS.length, budget, batchSize)
    await lc.embedDocuments(fullChunkTexts(4, embedder.maxInputTokens, embedder)) // same warm-up as ragtune's session
    const texts = await chunkTextsLikeIndexer(corpus.dir, embedder)
    const tokens = embeddedTokens(texts, embedder)
    note(`corpus: ${corpus.files.length} files, ${corpus.bytes} bytes; ragtune cuts ${texts.length} chunks (${tokens} tokens embedded)`)
    const tTok = performance.now()
    for (const t of texts) embedder.countTokens(t)
    const tokenizeMsPerChunk = (performance.now() - tTok) / texts.length
    // Padding: each batch runs at its longest input's length; a document's last chunk is usually short.
    const lengths = texts.map((t) => Math.min(embedder.countTokens(t), embedder.maxInputTokens) + 2)
    const padding = { real: tokens, inOrder: paddedTokens(lengths, batchSize), sortedBy4Batches: paddedTokensSorted(lengths, batchSize, 4 * batchSize) }

    const passes: Pass[] = []
    const ragtuneRuns: Array<RagtuneRun & { dir: string }> = []
    let langchain: LangChainIndexReport | null = null
    for (let round = 0; round < rounds; round++) {
      // Rotate the order each round so no method always runs first or last; machine noise drifts.
      for (let k = 0; k < METHODS.length; k++) {
        const method = METHODS[(k + round) % METHODS.length]!
        note(`round ${round + 1}/${rounds}: ${method}`)
        const foreign = watchForeignLoad()
        if (method === 'encoder alone') {
          const cpu0 = process.cpuUsage()
          const t0 = performance.now()
          for (let i = 0; i < texts.length; i += batchSize) await embedder.doEmbed(texts.slice(i, i + batchSize), { kind: 'document' })
          passes.push({ method, round, ms: performance.now() - t0, cpuMs: cpuSince(cpu0), foreignPct: foreign(), chunks: texts.length, tokens, detail: {} })
        } else if (method === 'ragtune indexFolder') {
          const dir = join(storeRoot, `round-${round}`)
          const run = await ragtuneIndexRun(corpus.dir, dir, embedder, batchSize)
          if (run.report.chunksWritten !== texts.length) throw new Error(`indexFolder wrote ${run.report.chunksWritten} chunks, the splitter gave ${texts.length}`)
          ragtuneRuns.push({ ...run, dir })
          passes.push({ method, round, ms: run.ms, cpuMs: run.cpuMs, foreignPct: foreign(), chunks: texts.length, tokens, detail: { ...run.times, openMs: run.openMs, closeMs: run.closeMs } })
        } else {
          const cpu0 = process.cpuUsage()
          langchain = await langChainIndex({ root: corpus.dir, embeddings: lc, countTokens: lcCount, chunkTokens, overlapTokens: DEFAULTS.chunking.overlapTokens })
          const cpuMs = cpuSince(cpu0)
          const detail = { loadMs: langchain.loadMs, splitMs: langchain.splitMs, embedAndStoreMs: langchain.embedAndStoreMs }
          passes.push({ method, round, ms: langchain.totalMs, cpuMs, foreignPct: foreign(), chunks: langchain.chunks.length, tokens: embeddedTokens(langchain.chunks, embedder), detail })
        }
      }
    }

    const of = (m: Method) => passes.filter((p) => p.method === m)
    // The wall time this pass would have had with the machine to itself: other processes' share of
    // the cores removed (our own idle time stays in). On a shared machine this is the stable rate;
    // it under-corrects a little, since ONNX's parallel sections wait for a descheduled thread.
    const availMs = (p: Pass) => p.ms * (1 - p.foreignPct / 100)
    const summary = Object.fromEntries(
      METHODS.map((m) => {
        const mine = of(m)
        const ms = median(mine.map((p) => p.ms))
        const adjMs = median(mine.map(availMs))
        const { chunks, tokens: tok } = mine[0]!
        const row = {
          medianMs: ms,
          runsMs: mine.map((p) => p.ms),
          chunks,
          tokens: tok,
          chunksPerSec: chunks / (ms / 1000),
          tokensPerSec: tok / (ms / 1000),
          adjustedTokensPerSec: tok / (adjMs / 1000),
          cpuUtilPct: median(mine.map((p) => pct(p.cpuMs, p.ms * cores))),
          foreignPct: median(mine.map((p) => p.foreignPct)),
        }
        return [m, row]
      }),
    ) as Record<Method, { medianMs: number; runsMs: number[]; chunks: number; tokens: number; chunksPerSec: number; tokensPerSec: number; adjustedTokensPerSec: number; cpuUtilPct: number; foreignPct: number }>
    // Paired ratios: each round's methods ran back to back, so they share that round's machine state.
    const paired = (a: Method, b: Method, unit: 'chunks' | 'tokens', time: (p: Pass) => number) => of(a).map((p, i) => p[unit] / time(p) / (of(b)[i]![unit] / time(of(b)[i]!)))
    const wallMs = (p: Pass) => p.ms
    const ratios = {
      ragtuneVsEncoderChunks: { wall: paired('ragtune indexFolder', 'encoder alone', 'chunks', wallMs), adjusted: paired('ragtune indexFolder', 'encoder alone', 'chunks', availMs) },
      langchainVsEncoderTokens: { wall: paired('LangChain.js', 'encoder alone', 'tokens', wallMs), adjusted: paired('LangChain.js', 'encoder alone', 'tokens', availMs) },
      ragtuneVsLangChainTokens: { wall: paired('ragtune indexFolder', 'LangChain.js', 'tokens', wallMs), adjusted: paired('ragtune indexFolder', 'LangChain.js', 'tokens', availMs) },
      ragtuneVsLangChainChunks: { wall: paired('ragtune indexFolder', 'LangChain.js', 'chunks', wallMs), adjusted: paired('ragtune indexFolder', 'LangChain.js', 'chunks', availMs) },
    }
    const range = (xs: number[]) => `${fmt(median(xs))} [${fmt(Math.min(...xs))}..${fmt(Math.max(...xs))}]`

    printTable(
      `indexing: ${corpus.files.length} markdown files, bge-small-shaped encoder (random weights: SPEED ONLY), batch ${batchSize}, 512/64-token chunks, ${rounds} interleaved rounds`,
      ['method', 'chunks', 'tokens embedded', 'median s', 'chunks/s', 'tokens/s', 'adj. tokens/s', 'CPU use %', 'other procs %', 'runs s'],
      METHODS.map((m) => {
        const r = summary[m]
        return [m, r.chunks, r.tokens, r.medianMs / 1000, r.chunksPerSec, r.tokensPerSec, r.adjustedTokensPerSec, r.cpuUtilPct, r.foreignPct, r.runsMs.map((x) => fmt(x / 1000)).join(' ')]
      }),
    )
    printTable('indexing: ratios, paired within each round (median [min..max] over rounds)', ['ratio', 'wall time', 'adjusted for other processes', 'goal'], [
      ['ragtune / encoder alone (chunks/s)', range(ratios.ragtuneVsEncoderChunks.wall), range(ratios.ragtuneVsEncoderChunks.adjusted), '>= 0.85'],
      ['LangChain / encoder alone (tokens/s)', range(ratios.langchainVsEncoderTokens.wall), range(ratios.langchainVsEncoderTokens.adjusted), ''],
      ['ragtune / LangChain (tokens/s)', range(ratios.ragtuneVsLangChainTokens.wall), range(ratios.ragtuneVsLangChainTokens.adjusted), '>= 1.5'],
      ['ragtune / LangChain (chunks/s)', range(ratios.ragtuneVsLangChainChunks.wall), range(ratios.ragtuneVsLangChainChunks.adjusted), ''],
    ])
    const med = (f: (r: RagtuneRun) => number): number => median(ragtuneRuns.map(f))
    const wall = med((r) => r.ms)
    printTable('indexing: where ragtune indexFolder spends its time (median over rounds; stages overlap)', ['stage', 'ms', '% of indexFolder wall'], [
      ['indexFolder wall', wall, 100],
      ['inside doEmbed (tokenize + ONNX + pool)', med((r) => r.times.embedMs), pct(med((r) => r.times.embedMs), wall)],
      [`chunker countTokens (${med((r) => r.times.countTokensCalls)} calls)`, med((r) => r.times.countTokensMs), pct(med((r) => r.times.countTokensMs), wall)],
      ['loaders (doLoad)', med((r) => r.times.loadMs), pct(med((r) => r.times.loadMs), wall)],
      [`store replaceDocument (${med((r) => r.times.storeWrites)} docs)`, med((r) => r.times.storeWriteMs), pct(med((r) => r.times.storeWriteMs), wall)],
      ['store.bulkLoad: drop + rebuild HNSW (fresh store)', med((r) => r.times.bulkIndexMs), pct(med((r) => r.times.bulkIndexMs), wall)],
      ['store open + init (not in wall)', med((r) => r.openMs), NaN],
      ['store close (not in wall)', med((r) => r.closeMs), NaN],
    ])
    if (langchain) {
      printTable('indexing: LangChain.js stages (last round)', ['stage', 'ms'], [
        ['DirectoryLoader + TextLoader', langchain.loadMs],
        ['RecursiveCharacterTextSplitter (markdown, token lengthFunction)', langchain.splitMs],
        ['MemoryVectorStore.addDocuments (embedding)', langchain.embedAndStoreMs],
      ])
    }
    process.stdout.write(
      `tokenizing one chunk on the JS thread: ${fmt(tokenizeMsPerChunk)} ms (the encoder: ${fmt(1000 / summary['encoder alone'].chunksPerSec)} ms per chunk)\n` +
        `padding: batches in indexFolder order run ${padding.inOrder} token positions for ${padding.real} real tokens (${fmt(pct(padding.inOrder - padding.real, padding.inOrder))}% padding); ` +
        `sorting each window of 4 batches by length would run ${padding.sortedBy4Batches} (${fmt(pct(padding.sortedBy4Batches - padding.real, padding.sortedBy4Batches))}% padding) — a count, not a timing\n`,
    )

    const last = ragtuneRuns.at(-1)
    if (last) {
      for (const r of ragtuneRuns) if (r !== last) await rm(r.dir, { recursive: true, force: true })
      keep.full = { corpus, storeDir: last.dir, fullMs: summary['ragtune indexFolder'].medianMs, chunks: texts.length, tempRoot: storeRoot }
    }
    const goal = (g: string, xs: number[], target: number) => ({ goal: g, value: median(xs), target: `>= ${target}`, met: median(xs) >= target })
    return {
      data: {
        corpus: { files: corpus.files.length, bytes: corpus.bytes },
        calibration,
        batchSize,
        rounds,
        passes,
        summary,
        pairedRatios: ratios,
        ragtuneStages: ragtuneRuns.map((r) => ({ ...r.times, ms: r.ms, cpuMs: r.cpuMs, openMs: r.openMs, closeMs: r.closeMs })),
        tokenizeMsPerChunk,
        padding,
      },
      goals: [
        goal('ragtune pipeline / encoder alone (chunks/s, paired median, wall)', ratios.ragtuneVsEncoderChunks.wall, 0.85),
        goal('ragtune pipeline / encoder alone (chunks/s, paired median, adjusted)', ratios.ragtuneVsEncoderChunks.adjusted, 0.85),
        goal('ragtune / LangChain.js (tokens/s, paired median, wall)', ratios.ragtuneVsLangChainTokens.wall, 1.5),
        goal('ragtune / LangChain.js (tokens/s, paired median, adjusted)', ratios.ragtuneVsLangChainTokens.adjusted, 1.5),
      ],
      notes: [
        `corpus size: ${reason}`,
        'Random weights of the real bge-small shape: the numbers are speed only and say nothing about quality.',
        "Chunk counts can differ: ragtune cuts exact <=510-token chunks with its markdown-aware splitter; LangChain's RecursiveCharacterTextSplitter (markdown separators, lengthFunction = the same tokenizer's token count, chunkSize 510, overlap 64) merges pieces its own way. tokens/s (tokens the encoder ran on after truncation, [CLS]/[SEP] included) is the fair rate; chunks/s is shown too.",
        "Model loading, store open/close and warm-up are outside every method's time; each method has its own ONNX session of the same model folder, batch size and warm-up.",
        "LangChain embeddings: a local Embeddings subclass equivalent to @langchain/community's HuggingFaceTransformersEmbeddings (which is peer-pinned to transformers.js v3), CLS pooling + normalize.",
        `CPU use % = process CPU time / (wall time x ${cores} cores); below 100 means cores sat idle (or other tenants took them). other procs % = CPU that other processes on this machine used during the passes (from /proc/stat), as a share of all cores: where it is high the run shared the machine. adj. tokens/s and the adjusted ratios divide by the wall time times the share of the cores other processes left free: the stable rate on a shared machine (it under-corrects a little).`,
      ],
    }
  } finally {
    await Promise.all([embedder.dispose(), lc.dispose()])
    if (!keep.full) await rm(storeRoot, { recursive: true, force: true })
  }
}
