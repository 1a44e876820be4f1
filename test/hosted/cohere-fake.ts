import { FakeService, recorded, type FakeResponse, type RecordedRequest } from './fake-service.js'

/**
 * Cohere's POST /v2/rerank behind a local HTTP server, answering in the recorded response shape
 * (recorded/cohere). Scores are the share of query words a passage contains: deterministic, and
 * enough to check that ranks and indexes come back aligned.
 */
export function startCohereFake(apiKey: string, models: string[] = ['rerank-english-v3.0']): Promise<FakeService> {
  return FakeService.start(async (req: RecordedRequest): Promise<FakeResponse> => {
    if (req.headers.authorization !== `Bearer ${apiKey}`) return { status: 401, body: await recorded('cohere', 'error-401') }
    if (req.method !== 'POST' || req.path !== '/v2/rerank') return { status: 404, body: { id: 'x', message: `unknown route ${req.method} ${req.path}` } }
    const body = req.json as { model: string; query: string; documents: string[]; top_n?: number }
    if (!models.includes(body.model)) return { status: 404, body: { id: 'x', message: `model '${body.model}' not found, make sure the correct model ID was used and that you have access to the model.` } }
    const words = body.query.toLowerCase().split(/\W+/).filter(Boolean)
    const results = body.documents
      .map((d, index) => ({ index, relevance_score: words.filter((w) => d.toLowerCase().includes(w)).length / Math.max(1, words.length) }))
      .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index)
      .slice(0, body.top_n ?? body.documents.length)
    return { body: { ...(await recorded('cohere', 'rerank')), results } }
  })
}
