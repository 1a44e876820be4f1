import Fastify, { type FastifyInstance } from 'fastify'
import { registerAdapterRoutes } from './adapter-routes.js'
import { registerAnalyzeRoute } from './analyze-route.js'
import { registerAnswerRoute } from './answer-route.js'
import { authenticate, requireScope } from './auth.js'
import { registerChatRoute } from './chat-route.js'
import type { ServerContext, ServerDeps } from './context.js'
import { registerDashboardRoute } from './dashboard-route.js'
import { registerDatasetRoutes } from './dataset-routes.js'
import { registerEvalRoutes } from './eval-routes.js'
import { registerFeedbackRoute } from './feedback-route.js'
import { HttpError, toHttpError } from './http-error.js'
import { registerInfoRoutes } from './info-routes.js'
import { registerJobRoutes } from './job-routes.js'
import { ConcurrencyLimiter } from './limiter.js'
import { registerLogRoutes } from './log-routes.js'
import { ServerMetrics } from './metrics.js'

export interface CreateServerOptions {
  /** false serves without API keys (the CLI allows it on loopback hosts only). */
  auth: boolean
  /** Where request log lines go; default: stderr, one JSON object per line. */
  log?: (line: Record<string, unknown>) => void
  /** Folder of the built dashboard; default: dist/web when built; null serves no dashboard. */
  webRoot?: string | null
}

function stderrLog(line: Record<string, unknown>): void {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), ...line }) + '\n')
}

/**
 * The HTTP API as a fastify instance over one set of deps: OpenAI-compatible chat and models,
 * ragtune's answer and feedback routes, health and metrics. Every error (validation, auth, body
 * size, unknown route, wrong method) answers in OpenAI's error shape. Not listening yet: see
 * startServer.
 */
export function createServer(deps: ServerDeps, opts: CreateServerOptions): { app: FastifyInstance; ctx: ServerContext } {
  const { server: sc } = deps.config
  const ctx: ServerContext = {
    ...deps,
    auth: opts.auth,
    limiter: new ConcurrencyLimiter({ maxConcurrent: sc.maxConcurrent, maxQueue: sc.maxQueue }),
    metrics: new ServerMetrics(),
    jobs: new Set(),
    startedAt: new Date(),
    closing: false,
    log: opts.log ?? stderrLog,
  }
  const app = Fastify({ logger: false, bodyLimit: sc.bodyLimitBytes, requestTimeout: sc.requestTimeoutMs, return503OnClosing: false, forceCloseConnections: 'idle' })
  app.decorateRequest('principal', null)
  app.decorateRequest('queryId', null)

  // Which methods each path has, so a wrong method is told apart from an unknown path.
  const methods = new Map<string, string[]>()
  app.addHook('onRoute', (route) => {
    const list = methods.get(route.url) ?? []
    list.push(...[route.method].flat().filter((m) => m !== 'HEAD'))
    methods.set(route.url, list)
  })

  // One log line and one metrics sample per request, also when the client left before the end
  // (fastify's onResponse does not run then); such requests count as status 499.
  app.addHook('onRequest', async (req, reply) => {
    const t0 = performance.now()
    reply.raw.once('close', () => {
      const route = req.is404 ? 'unmatched' : (req.routeOptions.url ?? 'unmatched')
      const status = reply.raw.writableFinished ? reply.statusCode : 499
      const ms = Math.round((performance.now() - t0) * 10) / 10
      ctx.metrics.observeRequest(req.method, route, status, ms / 1000)
      ctx.log({ level: 'info', msg: 'request', reqId: req.id, method: req.method, route, status, ms, queryId: req.queryId, client: req.principal?.name ?? null })
    })
    // Requests arriving on kept-alive connections during shutdown.
    if (ctx.closing) throw new HttpError(503, 'shutting_down', 'the server is shutting down', null, { 'retry-after': '5' })
  })

  const origins = new Set(sc.cors.origins)
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin
    if (origin && (origins.has(origin) || origins.has('*'))) {
      reply.header('access-control-allow-origin', origin).header('vary', 'Origin').header('access-control-expose-headers', 'x-ragtune-query-id, retry-after')
      if (req.method === 'OPTIONS') {
        return reply
          .code(204)
          .header('access-control-allow-methods', 'GET, POST')
          .header('access-control-allow-headers', 'authorization, content-type, x-api-key')
          .header('access-control-max-age', '600')
          .send()
      }
    }
    const scope = req.routeOptions.config.scope
    // Without keys, only loopback names may reach us: a web page that rebinds its own domain to
    // 127.0.0.1 (DNS rebinding) would otherwise read answers drawn from private documents.
    if (scope && !ctx.auth && !isLoopbackHostHeader(req.headers.host)) {
      throw new HttpError(403, 'host_not_allowed', 'without API keys (--no-auth) the server answers only requests addressed to localhost, 127.0.0.1 or [::1]')
    }
    if (!scope || !ctx.auth) return
    req.principal = await authenticate(ctx.store, req.headers)
    requireScope(req.principal, scope)
  })

  app.addHook('onSend', async (_req, reply, payload) => {
    if (ctx.closing) reply.header('connection', 'close')
    return payload
  })

  app.setErrorHandler(async (err, _req, reply) => {
    const h = toHttpError(err)
    return reply.code(h.status).headers(h.headers).send(h.body())
  })

  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0]!
    const allowed = methods.get(path)
    if (allowed) {
      const h = new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${path}; use ${allowed.join(' or ')}`, null, { allow: allowed.join(', ') })
      return reply.code(405).headers(h.headers).send(h.body())
    }
    return reply.code(404).send(new HttpError(404, 'not_found', `no route ${req.method} ${path}`).body())
  })

  registerAnswerRoute(app, ctx)
  registerChatRoute(app, ctx)
  registerFeedbackRoute(app, ctx)
  registerInfoRoutes(app, ctx)
  registerAdapterRoutes(app, ctx)
  // Read-only routes and the static files of the web dashboard (web/, built into dist/web).
  registerLogRoutes(app, ctx)
  registerAnalyzeRoute(app, ctx)
  registerDatasetRoutes(app, ctx)
  registerEvalRoutes(app, ctx)
  registerJobRoutes(app, ctx)
  registerDashboardRoute(app, opts.webRoot === undefined ? {} : { root: opts.webRoot })
  return { app, ctx }
}

/** Hosts only this machine can reach; `--no-auth` is refused on any other. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1')
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h)
}

/** The Host header names a loopback address (any port). */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (!host) return false
  return isLoopbackHost(host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, ''))
}
