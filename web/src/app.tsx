import { useEffect } from 'react'
import { KeyForm } from './components/key-form'
import { AdapterDetailPage } from './pages/adapter-detail-page'
import { AdaptersPage } from './pages/adapters-page'
import { AskPage } from './pages/ask-page'
import { DatasetsPage } from './pages/datasets-page'
import { FailuresPage } from './pages/failures-page'
import { JobsPage } from './pages/jobs-page'
import { LogDetailPage } from './pages/log-detail-page'
import { LogsPage } from './pages/logs-page'
import { Link, usePath } from './router'
import { SERVING_CHANGED } from './serving-changed'
import type { Health } from './types'
import { useApi } from './use-api'

const NAV: Array<[string, string]> = [
  ['/', 'Ask'],
  ['/logs', 'Query log'],
  ['/failures', 'Failures'],
  ['/datasets', 'Datasets'],
  ['/adapters', 'Adapters'],
  ['/jobs', 'Jobs'],
]

/** The shell: navigation, the API key, what the server serves, and the page for the current path. */
export function App() {
  const path = usePath()
  const section = '/' + (path.split('/')[1] ?? '')
  return (
    <>
      <header className="top">
        <Link to="/" className="brand">
          ragtune
        </Link>
        <nav aria-label="Sections">
          {NAV.map(([to, label]) => (
            <Link key={to} to={to} className={section === to ? 'active' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <ServingBadge />
        <KeyForm />
      </header>
      <main>{page(path)}</main>
    </>
  )
}

function page(path: string) {
  const [, first = '', second] = path.split('/')
  const param = second ? decodeURIComponent(second) : null
  switch (first) {
    case '':
      return <AskPage />
    case 'logs':
      return param ? <LogDetailPage key={param} id={param} /> : <LogsPage />
    case 'failures':
      return <FailuresPage />
    case 'datasets':
      return <DatasetsPage />
    case 'adapters':
      return param ? <AdapterDetailPage key={param} name={param} /> : <AdaptersPage />
    case 'jobs':
      return <JobsPage />
    default:
      return (
        <p className="state empty">
          No page at {path}. <Link to="/">Back to Ask</Link>
        </p>
      )
  }
}

/**
 * GET /health is open: it tells which model and adapter answer before any key is entered. Read again
 * after a promotion or rollback from this page, since those change what is served.
 */
function ServingBadge() {
  const health = useApi<Health>('/health')
  const { reload } = health
  useEffect(() => {
    window.addEventListener(SERVING_CHANGED, reload)
    return () => window.removeEventListener(SERVING_CHANGED, reload)
  }, [reload])
  if (!health.data) return <span className="serving muted">{health.error ? 'server unreachable' : ''}</span>
  const { generator, adapter } = health.data.models
  return (
    <span className="serving muted" title="what the server answers with">
      {generator}
      {adapter ? ` + ${adapter}` : ''}
    </span>
  )
}
