import { useCallback, useEffect, useState } from 'preact/hooks'
import { api } from '../../api/client.js'
import type { Match } from '../../router.js'
import { ErrorAlert } from '../../ui/alert.js'
import { when } from '../../ui/format.js'
import { Page } from '../../ui/page.js'
import { useAsync } from '../../ui/use-async.js'
import { BudgetSection, ErrorsSection, HealthSection, OperationsSection, TokenSection, UpstreamSection } from './gateway-sections.js'
import type { GatewayStatus, Probe } from './gateway-types.js'

const EVERY_MS = 10_000

/**
 * The probes answer without a session, and /api/ready's 503 carries the reason in the same shape as its 200
 * (not the error envelope `api` expects), so they are read here directly, with no token sent.
 */
async function probe(path: string, signal: AbortSignal): Promise<Probe & { http: number }> {
  const res = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'omit', cache: 'no-store', signal })
  let body: Partial<Probe> = {}
  try {
    body = (await res.json()) as Partial<Probe>
  } catch {
    // a proxy's HTML page: the status code alone says it
  }
  return {
    http: res.status,
    status: typeof body.status === 'string' ? body.status : `HTTP ${res.status}`,
    message: typeof body.message === 'string' ? body.message : res.statusText,
    ...(typeof body.expires_at === 'string' ? { expires_at: body.expires_at } : {})
  }
}

/** Calls `reload` every `ms` while the tab is shown, and at once when it is shown again; never while hidden. */
function useAutoRefresh(reload: () => void, ms: number, on: boolean): void {
  useEffect(() => {
    if (!on) return
    const visible = (): boolean => document.visibilityState === 'visible'
    const timer = setInterval(() => {
      if (visible()) reload()
    }, ms)
    const onVisibility = (): void => {
      if (visible()) reload()
    }
    document.addEventListener('visibilitychange', onVisibility)
    return () => {
      clearInterval(timer)
      document.removeEventListener('visibilitychange', onVisibility)
    }
  }, [reload, ms, on])
}

/** The gateway as this replica sees it: Evercycle tokens (times only), upstream health, budget, recent errors. */
export function GatewayPage(_props: { match: Match }) {
  const status = useAsync((signal) => api<GatewayStatus>('GET', '/api/v1/gateway/status', { signal }), [])
  const health = useAsync((signal) => probe('/api/health', signal), [])
  const ready = useAsync((signal) => probe('/api/ready', signal), [])
  const [auto, setAuto] = useState(true)
  const { reload: r1 } = status
  const { reload: r2 } = health
  const { reload: r3 } = ready
  const reload = useCallback(() => {
    r1()
    r2()
    r3()
  }, [r1, r2, r3])
  useAutoRefresh(reload, EVERY_MS, auto)
  const loading = status.loading || health.loading || ready.loading
  const s = status.data

  return (
    <Page
      title="Gateway status"
      actions={
        <>
          <label class="admin-check">
            <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.currentTarget.checked)} />
            Refresh every {EVERY_MS / 1000} s
          </label>
          <button type="button" onClick={reload} disabled={loading}>
            Refresh
          </button>
        </>
      }
    >
      <p class="muted">
        {s === undefined ? 'Checking…' : `As this replica saw it at ${when(s.checked_at)}.`}{' '}
        <a href="/docs">API documentation</a>
      </p>
      <HealthSection health={health.data} healthError={health.error} ready={ready.data} readyError={ready.error} />
      <ErrorAlert message={status.error === undefined ? undefined : `Could not read the gateway's status: ${status.error}`} />
      {s === undefined ? null : (
        <>
          <div class="admin-grid">
            <TokenSection token={s.token} />
            <UpstreamSection upstream={s.upstream} />
            <BudgetSection budget={s.budget} />
          </div>
          <ErrorsSection errors={s.recent_errors} />
        </>
      )}
      <OperationsSection />
    </Page>
  )
}
