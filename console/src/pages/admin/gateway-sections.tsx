import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import { api } from '../../api/client.js'
import { ErrorAlert } from '../../ui/alert.js'
import { duration, relative, when } from '../../ui/format.js'
import { useAsync } from '../../ui/use-async.js'
import type { GatewayOperation, GatewayStatus, Probe, UpstreamError } from './gateway-types.js'

type Tone = 'good' | 'bad' | 'warn' | 'idle'

/** A state in words, its colour only a second cue. */
function Badge({ tone, children }: { tone: Tone; children: ComponentChildren }) {
  return <span class={`status gw-${tone}`}>{children}</span>
}

/** "12:03:04 (in 4 min)", or a dash. */
function At({ iso }: { iso: string | null | undefined }) {
  if (iso === null || iso === undefined) return <>—</>
  return (
    <time dateTime={iso}>
      {when(iso)} <span class="muted">({relative(iso)})</span>
    </time>
  )
}

function Facts({ rows }: { rows: Array<[string, ComponentChildren]> }) {
  return (
    <dl class="facts">
      {rows.map(([term, value]) => [<dt key={`${term}-t`}>{term}</dt>, <dd key={`${term}-d`}>{value}</dd>])}
    </dl>
  )
}

function Section({ id, title, children }: { id: string; title: string; children: ComponentChildren }) {
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  )
}

export function HealthSection({ health, healthError, ready, readyError }: { health: (Probe & { http: number }) | undefined; healthError: string | undefined; ready: (Probe & { http: number }) | undefined; readyError: string | undefined }) {
  const word = (p: (Probe & { http: number }) | undefined, error: string | undefined, good: string, bad: string) =>
    p === undefined ? (
      error === undefined ? <span aria-busy="true">checking…</span> : <Badge tone="bad">unreachable</Badge>
    ) : (
      <>
        <Badge tone={p.http === 200 ? 'good' : 'bad'}>{p.http === 200 ? good : bad}</Badge> <span class="muted">{p.message}</span>
      </>
    )
  return (
    <Section id="gw-health" title="Health">
      <Facts
        rows={[
          [
            'Liveness',
            <>
              {word(health, healthError, 'alive', 'not alive')} <a href="/api/health">/api/health</a>
            </>
          ],
          [
            'Readiness',
            <>
              {word(ready, readyError, 'ready', 'not ready')} <a href="/api/ready">/api/ready</a>
            </>
          ]
        ]}
      />
      <ErrorAlert message={healthError ?? readyError} />
    </Section>
  )
}

export function TokenSection({ token }: { token: GatewayStatus['token'] }) {
  const state = token.signed_in ? (
    <Badge tone="good">signed in</Badge>
  ) : token.sign_in_blocked_until !== null ? (
    <Badge tone="bad">sign-in refused</Badge>
  ) : (
    <Badge tone="idle">not signed in</Badge>
  )
  return (
    <Section id="gw-token" title="Evercycle sign-in (service identity)">
      <Facts
        rows={[
          ['State', <>{state}{token.renewing ? <span class="muted"> renewing now</span> : null}</>],
          ['Expires', <At iso={token.expires_at} />],
          ['Last refresh', <At iso={token.last_refresh_at} />],
          ['Next refresh', <><At iso={token.next_refresh_at} />{token.next_refresh_at === null ? null : <span class="muted"> (on the first call after)</span>}</>],
          ...(token.sign_in_blocked_until === null ? [] : ([['No sign-in before', <At iso={token.sign_in_blocked_until} />]] as Array<[string, ComponentChildren]>)),
          ['Since start', `${token.sign_ins} sign-ins, ${token.refreshes} refreshes, ${token.renewal_failures} refused`]
        ]}
      />
    </Section>
  )
}

function upstreamHealth(u: GatewayStatus['upstream']): [Tone, string] {
  if (u.breaker.state === 'open') return ['bad', 'failing: circuit open']
  if (u.breaker.state === 'half_open') return ['warn', 'recovering: probing']
  const ok = u.last_success_at === null ? 0 : Date.parse(u.last_success_at)
  const bad = u.last_failure_at === null ? 0 : Date.parse(u.last_failure_at)
  if (ok === 0 && bad === 0) return ['idle', 'no calls yet']
  return bad > ok ? ['warn', 'last call failed'] : ['good', 'healthy']
}

export function UpstreamSection({ upstream: u }: { upstream: GatewayStatus['upstream'] }) {
  const [tone, word] = upstreamHealth(u)
  const b = u.breaker
  return (
    <Section id="gw-upstream" title="Evercycle upstream">
      <Facts
        rows={[
          ['Base URL', <code class="admin-wrap">{u.base_url}</code>],
          ['Health', <Badge tone={tone}>{word}</Badge>],
          ['Last success', <At iso={u.last_success_at} />],
          ['Last failure', <At iso={u.last_failure_at} />],
          ['Failed calls', String(u.failures)],
          [
            'Circuit breaker',
            <>
              <Badge tone={b.state === 'closed' ? 'good' : b.state === 'open' ? 'bad' : 'warn'}>{b.state.replace('_', '-')}</Badge>{' '}
              <span class="muted">
                {b.state === 'closed'
                  ? `${b.consecutive_failures} of ${b.failure_threshold} failures in ${duration(b.window_ms)}`
                  : `opened ${relative(b.opened_at)}, next probe ${relative(b.next_probe_at)}`}
              </span>
            </>
          ],
          ['Timeout', duration(u.timeout_ms)]
        ]}
      />
    </Section>
  )
}

export function BudgetSection({ budget: b }: { budget: GatewayStatus['budget'] }) {
  const rate = b.rate === null ? 'no rate limit (concurrency only)' : `${b.rate.per_second}/s, burst ${b.rate.burst}, ${b.rate.flow_reserve} kept for interactive calls${b.rate.shared ? ', shared by every replica' : ''}`
  return (
    <Section id="gw-budget" title="Upstream budget">
      <Facts
        rows={[
          ['Rate', rate],
          ['In flight', `${b.in_flight} of ${b.max_concurrency}`],
          ['Waiting', `${b.queued.interactive} interactive (give up after ${duration(b.queue_timeout_ms)})`],
          ['Paused', b.paused_until === null ? 'no' : <>until <At iso={b.paused_until} /> (Evercycle answered 429)</>],
          ['Refused', `${b.refused.busy} busy, ${b.refused.rate_limited} rate limited, ${b.refused.circuit_open} circuit open`],
          ['429s from Evercycle', String(b.rate_limited_by_upstream)],
          ['Time waited', `${duration(b.waited_ms.interactive)} interactive, ${duration(b.waited_ms.flow)} flows`]
        ]}
      />
    </Section>
  )
}

export function ErrorsSection({ errors }: { errors: UpstreamError[] }) {
  return (
    <section aria-labelledby="gw-errors">
      <h2 id="gw-errors">Recent upstream errors</h2>
      {errors.length === 0 ? (
        <p>No failed upstream call since this replica started.</p>
      ) : (
        <div class="table-wrap">
          <table class="admin-table" aria-labelledby="gw-errors">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Operation</th>
                <th scope="col">Status</th>
                <th scope="col">Code</th>
                <th scope="col">Message</th>
                <th scope="col">Request</th>
              </tr>
            </thead>
            <tbody>
              {errors.map((e, i) => (
                <tr key={`${e.at}-${i}`}>
                  <td>
                    <At iso={e.at} />
                  </td>
                  <td>
                    {e.operation}
                    <div class="muted mono">
                      {e.method} {e.path ?? ''}
                    </div>
                  </td>
                  <td>{e.status ?? 'no answer'}</td>
                  <td>{[e.code, e.reason].filter((x) => x !== null).join(', ') || '—'}</td>
                  <td>{e.message}</td>
                  <td class="mono">{e.request_id ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}

/** Loaded the first time it is opened: the list is long and rarely wanted. */
export function OperationsSection() {
  const [open, setOpen] = useState(false)
  return (
    <details class="admin-details" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Gateway operations</summary>
      {open ? <Operations /> : null}
    </details>
  )
}

function Operations() {
  const ops = useAsync((signal) => api<{ apis: GatewayOperation[] }>('GET', '/api/list', { signal, anonymous: true }), [])
  if (ops.data === undefined) return ops.error === undefined ? <p aria-busy="true">Loading…</p> : <ErrorAlert message={ops.error} />
  return (
    <>
      <p class="muted">{ops.data.apis.length} operations, called as <code>/api/&lt;name&gt;</code>.</p>
      <div class="table-wrap">
        <table class="admin-table" aria-label="Gateway operations">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Method</th>
              <th scope="col">Evercycle path</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {ops.data.apis.map((o) => (
              <tr key={o.name}>
                <th scope="row" class="mono">
                  {o.name}
                </th>
                <td>{o.method}</td>
                <td class="mono">{o.path}</td>
                <td>{o.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  )
}
