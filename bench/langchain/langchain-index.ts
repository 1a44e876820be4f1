import { AutoTokenizer } from '@huggingface/transformers'
import { MemoryVectorStore } from '@langchain/classic/vectorstores/memory'
import { DirectoryLoader } from '@langchain/classic/document_loaders/fs/directory'
import { TextLoader } from '@langchain/classic/document_loaders/fs/text'
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters'
import { TransformersJsEmbeddings } from './transformers-embeddings.js'

export interface LangChainIndexOptions {
  root: string
  embeddings: TransformersJsEmbeddings
  /** Counts tokens with the embedding model's own tokenizer (no special tokens). */
  countTokens: (text: string) => number
  chunkTokens: number
  overlapTokens: number
}

export interface LangChainIndexReport {
  files: number
  chunks: string[]
  /** Wall time of each stage, in milliseconds; they run one after the other. */
  loadMs: number
  splitMs: number
  embedAndStoreMs: number
  totalMs: number
  store: MemoryVectorStore
}

/**
 * The LangChain.js way of indexing a markdown folder: DirectoryLoader + TextLoader,
 * RecursiveCharacterTextSplitter with markdown separators whose lengthFunction counts the embedding
 * model's tokens (so chunks are token-sized as ragtune's are), then MemoryVectorStore.addDocuments.
 */
export async function langChainIndex(opts: LangChainIndexOptions): Promise<LangChainIndexReport> {
  const t0 = performance.now()
  const loader = new DirectoryLoader(opts.root, { '.md': (path: string) => new TextLoader(path) }, true)
  const docs = await loader.load()
  const t1 = performance.now()
  const splitter = RecursiveCharacterTextSplitter.fromLanguage('markdown', {
    chunkSize: opts.chunkTokens,
    chunkOverlap: opts.overlapTokens,
    lengthFunction: opts.countTokens,
  })
  const chunks = await splitter.splitDocuments(docs)
  const t2 = performance.now()
  const store = new MemoryVectorStore(opts.embeddings)
  await store.addDocuments(chunks)
  const t3 = performance.now()
  return {
    files: docs.length,
    chunks: chunks.map((c) => c.pageContent),
    loadMs: t1 - t0,
    splitMs: t2 - t1,
    embedAndStoreMs: t3 - t2,
    totalMs: t3 - t0,
    store,
  }
}

/** A token counter as a LangChain user would write one: the model's tokenizer, no special tokens. */
export async function tokenCounter(modelDir: string): Promise<(text: string) => number> {
  const tokenizer = await AutoTokenizer.from_pretrained(modelDir, { local_files_only: true })
  return (text) => tokenizer.encode(text, { add_special_tokens: false }).length
}
