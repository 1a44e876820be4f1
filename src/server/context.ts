import type { RagtuneConfig } from '../config/schema.js'
import type { ApiKeyScope } from '../spec/api-key.js'
import type { EmbeddingModel } from '../spec/embedding-model.js'
import type { Generator } from '../spec/generator.js'
import type { Reranker } from '../spec/reranker.js'
import type { Store } from '../spec/store.js'
import type { Principal } from './auth.js'
import type { ConcurrencyLimiter } from './limiter.js'
import type { ServerMetrics } from './metrics.js'

/**
 * What the server holds for its whole life: ONE store and one set of models. PGlite allows a single
 * opener per data folder, so every request (feedback included) goes through these.
 */
export interface ServerDeps {
  config: RagtuneConfig
  store: Store
  embedder: EmbeddingModel | undefined
  reranker: Reranker | undefined
  generator: Generator
}

/** The deps plus the server's own shared state, handed to every route. */
export interface ServerContext extends ServerDeps {
  /** false only with `--no-auth` on a loopback host. */
  auth: boolean
  limiter: ConcurrencyLimiter
  metrics: ServerMetrics
  /** Answers running or queued; aborted when the shutdown deadline passes. */
  jobs: Set<AbortController>
  startedAt: Date
  /** True once shutdown began: responses then close their connection. */
  closing: boolean
  /** One JSON line on stderr. Callers pass ids, routes and numbers, never keys or document text. */
  log(line: Record<string, unknown>): void
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook; null on open routes. */
    principal: Principal | null
    /** The query-log id of an answer, for the request log line. */
    queryId: string | null
  }
  interface FastifyContextConfig {
    /** Scope a route needs; undefined routes are open (health). */
    scope?: ApiKeyScope
  }
}
