/**
 * ragtune as a tool of the Vercel AI SDK: the model decides when to search the docs, gets numbered
 * sources (or ragtune's own answer, from its active LoRA adapter), and cites them.
 *
 *   npm install ragtune ai
 *   npx ragtune index docs/            # once, from the project folder
 *   AI_GATEWAY_API_KEY=... npx tsx examples/ai-sdk-tool.ts "How do I rotate keys?"
 *
 * Any AI SDK model works in place of the gateway id, e.g. `openai('gpt-4o-mini')` from @ai-sdk/openai.
 */
import { stepCountIs, streamText } from 'ai'
import { activeChoice, loadConfig, openWorkspace } from 'ragtune'
import { ragtuneTool } from 'ragtune/ai-sdk'

const question = process.argv[2] ?? 'How do I rotate keys?'
const loaded = await loadConfig()
const ws = await openWorkspace(loaded, { reranker: true, requireIndex: true })
// Answer inside the tool with what production serves (the registry's active adapter). Leave
// `generator` out to let the calling model write the answer from the sources instead.
const generator = process.env.RAGTUNE_ANSWERS === '1' ? await (await activeChoice(loaded, ws.dataDir, ws.store)).load() : undefined
try {
  const result = streamText({
    model: 'openai/gpt-4o-mini',
    system: 'Use the docs tool for questions about the product. Cite sources as [n].',
    prompt: question,
    tools: { docs: ragtuneTool({ ...ws, retrieval: ws.config.retrieval, ...(generator ? { generator } : {}) }) },
    stopWhen: stepCountIs(3),
    abortSignal: AbortSignal.timeout(120_000),
  })
  for await (const text of result.textStream) process.stdout.write(text)
  process.stdout.write('\n')
  for (const step of await result.steps) {
    for (const r of step.toolResults) console.error(`tool ${r.toolName}:`, JSON.stringify(r.output).slice(0, 300))
  }
} finally {
  await generator?.dispose()
  await ws.close()
}
