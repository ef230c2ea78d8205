import { useMemo, useState } from 'preact/hooks'
import type { FlowSummary } from '../../api/types.js'
import { href, navigate, withQuery, type Match } from '../../router.js'
import { ErrorAlert } from '../../ui/alert.js'
import { relative, when } from '../../ui/format.js'
import { Page } from '../../ui/page.js'
import { useAsync } from '../../ui/use-async.js'
import { allFlows } from './api.js'

/** A flow matches when every word typed is in its name or description, in any case. */
function matches(flow: FlowSummary, search: string, tag: string): boolean {
  if (tag !== '' && !flow.tags.includes(tag)) return false
  const haystack = `${flow.name}\n${flow.description}`.toLowerCase()
  return search
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '')
    .every((w) => haystack.includes(w))
}

export function FlowsPage({ match }: { match: Match }) {
  const flows = useAsync((signal) => allFlows(signal), [])
  // Kept in the URL too, so a reload or a shared link shows the same list.
  const [search, setSearch] = useState(match.query.get('q') ?? '')
  const [tag, setTag] = useState(match.query.get('tag') ?? '')
  const tags = useMemo(() => [...new Set((flows.data ?? []).flatMap((f) => f.tags))].sort(), [flows.data])
  const shown = useMemo(() => (flows.data ?? []).filter((f) => matches(f, search, tag)), [flows.data, search, tag])

  const update = (next: { q?: string; tag?: string }): void => {
    const q = next.q ?? search
    const t = next.tag ?? tag
    setSearch(q)
    setTag(t)
    history.replaceState(null, '', withQuery('#/flows', { q, tag: t }))
  }

  const actions = (
    <button type="button" class="primary" onClick={() => navigate('#/flows/new')}>
      New flow
    </button>
  )
  return (
    <Page title="Flows" actions={actions}>
      <div class="toolbar" role="search">
        <label>
          Search
          <input type="search" value={search} placeholder="Name or description" onInput={(e) => update({ q: e.currentTarget.value })} />
        </label>
        <label>
          Tag
          <select value={tag} onChange={(e) => update({ tag: e.currentTarget.value })}>
            <option value="">All tags</option>
            {tags.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorAlert message={flows.error} />
      {flows.data === undefined ? (
        flows.loading ? <p class="muted">Loading…</p> : null
      ) : flows.data.length === 0 ? (
        <p>
          No flows yet. <a href="#/flows/new">Write the first one.</a>
        </p>
      ) : (
        <FlowsTable flows={shown} total={flows.data.length} />
      )}
    </Page>
  )
}

function FlowsTable({ flows, total }: { flows: FlowSummary[]; total: number }) {
  return (
    <>
      <p class="muted" aria-live="polite">
        {flows.length === total ? `${total} flows` : `${flows.length} of ${total} flows match`}
      </p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Description</th>
              <th scope="col">Tags</th>
              <th scope="col">Version</th>
              <th scope="col">Updated</th>
              <th scope="col">Executions</th>
            </tr>
          </thead>
          <tbody>
            {flows.map((f) => (
              <tr key={f.id}>
                <td>
                  <a href={href('/flows', f.id)}>{f.name}</a>
                </td>
                <td>{f.description === '' ? <span class="muted">—</span> : f.description}</td>
                <td>
                  {f.tags.map((t) => (
                    <span key={t} class="tag">
                      {t}
                    </span>
                  ))}
                </td>
                <td>{f.version ?? '—'}</td>
                <td>
                  <time dateTime={f.updated_at} title={when(f.updated_at)}>
                    {relative(f.updated_at)}
                  </time>
                </td>
                <td>
                  <a href={withQuery('#/executions', { flow_id: f.id })} aria-label={`Executions of ${f.name}`}>
                    Executions
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  )
}
