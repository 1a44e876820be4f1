/** `ragtune/langchain`: needs @langchain/core (an optional peer dependency). */
export { RagtuneRetriever, type RagtuneDocumentMetadata, type RagtuneRetrieverInput } from './ragtune-retriever.js'
