import { pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers'
import { Embeddings, type EmbeddingsParams } from '@langchain/core/embeddings'
import { chunkArray } from '@langchain/core/utils/chunk_array'

export interface TransformersJsEmbeddingsParams extends EmbeddingsParams {
  /** Local model folder (or hub id). */
  model: string
  batchSize: number
  pooling: 'cls' | 'mean'
  normalize: boolean
}

/**
 * LangChain's own `HuggingFaceTransformersEmbeddings` (@langchain/community) rebuilt here because it
 * declares @huggingface/transformers v3 as its peer and ragtune uses v4. It behaves the same: a
 * transformers.js feature-extraction pipeline, newlines stripped, texts cut into `batchSize`
 * batches that are all submitted at once (Promise.all) through LangChain's AsyncCaller, vectors
 * returned as number[] lists.
 */
export class TransformersJsEmbeddings extends Embeddings {
  private readonly params: TransformersJsEmbeddingsParams
  private pipe: Promise<FeatureExtractionPipeline> | null = null

  constructor(params: TransformersJsEmbeddingsParams) {
    super(params)
    this.params = params
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    const batches = chunkArray(texts.map((t) => t.replace(/\n/g, ' ')), this.params.batchSize)
    const responses = await Promise.all(batches.map((batch) => this.runEmbedding(batch)))
    return responses.flat()
  }

  async embedQuery(text: string): Promise<number[]> {
    const [vector] = await this.runEmbedding([text.replace(/\n/g, ' ')])
    return vector!
  }

  /** Loads the pipeline (first call only); exposed so a benchmark can time loading apart from work. */
  load(): Promise<FeatureExtractionPipeline> {
    this.pipe ??= pipeline('feature-extraction', this.params.model, { local_files_only: true })
    return this.pipe
  }

  /** Frees the ONNX session. */
  async dispose(): Promise<void> {
    if (this.pipe) await (await this.pipe).dispose()
  }

  private async runEmbedding(texts: string[]): Promise<number[][]> {
    const pipe = await this.load()
    return this.caller.call(async () => {
      const output = await pipe(texts, { pooling: this.params.pooling, normalize: this.params.normalize })
      return output.tolist() as number[][]
    })
  }
}
