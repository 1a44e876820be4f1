import { existsSync, realpathSync } from 'node:fs'
import { readFile, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { HttpError } from './http-error.js'

/** Content types of what `vite build` writes; anything else is served as bytes. */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
}

/**
 * The page may load only its own scripts and styles and talk only to this server: answers quote
 * private documents, so nothing injected into them may reach another origin or frame the page.
 */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

/** Paths that belong to the API: never answered with the dashboard, so API clients get JSON 404/405. */
const API_PATH = /^\/(v1(\/|$)|health$|metrics$)/

/**
 * Where `npm run build` puts the dashboard (`dist/web`), from the compiled module (`dist/server`)
 * or, under tests that import the sources, from `src/server`. Null when it was never built.
 */
export function defaultWebRoot(): string | null {
  for (const rel of ['../web/', '../../dist/web/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(path.join(dir, 'index.html'))) return dir
  }
  return null
}

/**
 * Serves the built dashboard at `/`: its files with their content types, Vite's hashed `assets/`
 * cached for a year (a new build gets new names), everything else revalidated. `/` and a browser
 * navigating to a page path (`/logs`, `/adapters/v2`) get index.html, so client-side routes survive
 * a reload; other requests (fetch, curl) for unknown paths and all API paths keep the JSON 404/405. Paths
 * with `.`/`..` segments, NULs or backslashes are refused (400), and a file is served only when its
 * real path lies inside the root, so no request can read outside the built folder.
 */
export function registerDashboardRoute(app: FastifyInstance, opts: { root?: string | null } = {}): void {
  const root = opts.root === undefined ? defaultWebRoot() : opts.root
  const base = root && existsSync(root) ? realpathSync(root) : null

  app.get('/*', async (req, reply) => {
    const urlPath = req.url.split('?')[0]!
    if (API_PATH.test(urlPath)) return reply.callNotFound()
    const rel = safeRelativePath(urlPath)
    if (!base) {
      if (rel !== '' && !wantsPage(req)) return reply.callNotFound()
      throw new HttpError(404, 'dashboard_not_built', 'the dashboard is not built: run `npm run build` (it writes dist/web), then restart `ragtune serve`')
    }
    const file = rel === '' ? null : await fileInside(base, rel)
    if (file) return sendFile(reply, file, rel.startsWith('assets/'))
    if (rel === '' || (!path.posix.basename(rel).includes('.') && wantsPage(req))) return sendFile(reply, path.join(base, 'index.html'), false)
    return reply.callNotFound()
  })
}

/** The URL path as a relative file path, or a 400 when it tries to leave the folder or hide bytes. */
function safeRelativePath(urlPath: string): string {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    throw new HttpError(400, 'invalid_path', `the path ${JSON.stringify(urlPath)} is not valid percent-encoding`)
  }
  const segments = decoded.split('/').filter((s) => s !== '')
  if (decoded.includes('\0') || decoded.includes('\\') || segments.some((s) => s === '.' || s === '..')) {
    throw new HttpError(400, 'invalid_path', 'the path may not contain "." or ".." segments, backslashes or NUL bytes')
  }
  return segments.join('/')
}

/** The real path of `rel` under `base` when it is a regular file inside it (symlinks resolved), else null. */
async function fileInside(base: string, rel: string): Promise<string | null> {
  try {
    const real = await realpath(path.join(base, rel))
    if (!real.startsWith(base + path.sep)) return null
    return (await stat(real)).isFile() ? real : null
  } catch {
    return null
  }
}

/** A browser navigation (Accept: text/html), as opposed to fetch, curl or an asset request. */
function wantsPage(req: FastifyRequest): boolean {
  return (req.headers.accept ?? '').includes('text/html')
}

async function sendFile(reply: FastifyReply, file: string, immutable: boolean): Promise<FastifyReply> {
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream'
  const body = await readFile(file)
  reply
    .type(type)
    .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('x-content-type-options', 'nosniff')
  if (type.startsWith('text/html')) reply.header('content-security-policy', CSP).header('referrer-policy', 'no-referrer')
  return reply.send(body)
}
