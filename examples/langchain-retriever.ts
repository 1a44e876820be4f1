/**
 * ragtune's hybrid retrieval inside a LangChain.js chain.
 *
 *   npm install ragtune @langchain/core
 *   npx ragtune index docs/            # once, from the project folder
 *   npx tsx examples/langchain-retriever.ts "How do I rotate keys?"
 *
 * The retriever returns the same reranked top-k chunks `ragtune ask` answers from, as LangChain
 * Documents whose metadata carries the path, heading path and every stage's score. Plug the prompt
 * into any LangChain chat model (e.g. @langchain/openai's ChatOpenAI) with `.pipe(model)`.
 */
import type { Document } from '@langchain/core/documents'
import { ChatPromptTemplate } from '@langchain/core/prompts'
import { RunnableLambda, RunnableMap, RunnablePassthrough } from '@langchain/core/runnables'
import { loadConfig, openWorkspace } from 'ragtune'
import { RagtuneRetriever, type RagtuneDocumentMetadata } from 'ragtune/langchain'

const question = process.argv[2] ?? 'How do I rotate keys?'
const ws = await openWorkspace(await loadConfig(), { reranker: true, requireIndex: true })
try {
  const retriever = new RagtuneRetriever({ ...ws, retrieval: ws.config.retrieval })

  const numbered = RunnableLambda.from((docs: Document<RagtuneDocumentMetadata>[]) =>
    docs.map((d, i) => `[${i + 1}] ${d.metadata.documentPath} (${d.metadata.headingPath.join(' > ')})\n${d.pageContent}`).join('\n\n'),
  )
  const prompt = ChatPromptTemplate.fromMessages([
    ['system', 'Answer only from the numbered sources and cite them as [n]. Say so when they do not hold the answer.'],
    ['human', '<sources>\n{sources}\n</sources>\n\nQuestion: {question}'],
  ])
  const chain = RunnableMap.from({ sources: retriever.pipe(numbered), question: new RunnablePassthrough<string>() }).pipe(prompt)

  const messages = await chain.invoke(question, { signal: AbortSignal.timeout(60_000) })
  console.log(messages.toChatMessages().map((m) => `${m.getType()}: ${String(m.content)}`).join('\n\n'))
} finally {
  await ws.close()
}
