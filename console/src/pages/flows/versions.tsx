import { useEffect, useMemo, useState } from 'preact/hooks'
import type { FlowVersion } from '../../api/types.js'
import { YamlDiff } from '../../editor/merge-view.js'
import { href, type Match } from '../../router.js'
import { ErrorAlert } from '../../ui/alert.js'
import { when } from '../../ui/format.js'
import { Page } from '../../ui/page.js'
import { useAsync } from '../../ui/use-async.js'
import { allVersions, getFlow, getVersion, orNotFound } from './api.js'

export function FlowVersionsPage({ match }: { match: Match }) {
  const id = match.params.id ?? ''
  const loaded = useAsync(
    async (signal) => {
      const flow = await orNotFound(getFlow(id, signal))
      if (!flow.found) return undefined
      const versions = await allVersions(id, signal)
      return { flow: flow.value, versions: versions.sort((x, y) => x.revision - y.revision) }
    },
    [id]
  )
  const back = <a href={href('/flows', id)}>Back to the flow</a>
  if (loaded.error !== undefined) {
    return (
      <Page title="Versions">
        <ErrorAlert message={loaded.error} />
      </Page>
    )
  }
  if (loaded.loading && loaded.data === undefined) {
    return (
      <Page title="Versions">
        <p class="muted">Loading…</p>
      </Page>
    )
  }
  if (loaded.data === undefined) {
    return (
      <Page title="Flow not found">
        <p>
          There is no flow <code>{id}</code> for this account. <a href="#/flows">Back to the flows</a>
        </p>
      </Page>
    )
  }
  return (
    <Page title={`Versions of ${loaded.data.flow.name}`} actions={back}>
      <VersionsTable versions={loaded.data.versions} />
      <Compare flowId={id} versions={loaded.data.versions} />
    </Page>
  )
}

function VersionsTable({ versions }: { versions: FlowVersion[] }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">Revisions, oldest first</caption>
        <thead>
          <tr>
            <th scope="col">Revision</th>
            <th scope="col">Saved</th>
            <th scope="col">Name</th>
            <th scope="col">Version label</th>
            <th scope="col">Author</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.revision}>
              <td>Revision {v.revision}</td>
              <td>{when(v.created_at)}</td>
              <td>{v.name}</td>
              <td>{v.version ?? '—'}</td>
              <td class="mono">{v.author_id ?? 'deleted account'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

/** Two revisions side by side: by default the one before the latest, and the latest. */
function Compare({ flowId, versions }: { flowId: string; versions: FlowVersion[] }) {
  const latest = versions[versions.length - 1]?.revision ?? 1
  const [a, setA] = useState(Math.max(1, latest - 1))
  const [b, setB] = useState(latest)
  useEffect(() => {
    setA(Math.max(1, latest - 1))
    setB(latest)
  }, [latest])
  const texts = useAsync((signal) => Promise.all([getVersion(flowId, a, signal), getVersion(flowId, b, signal)]), [flowId, a, b])
  const options = useMemo(
    () =>
      versions.map((v) => (
        <option key={v.revision} value={v.revision}>
          Revision {v.revision} ({when(v.created_at)})
        </option>
      )),
    [versions]
  )
  if (versions.length < 2) return <p class="muted">There is only one revision: save a change to compare two.</p>
  return (
    <section aria-labelledby="compare-heading">
      <h2 id="compare-heading">Compare</h2>
      <div class="toolbar">
        <label>
          Left (older)
          <select value={a} onChange={(e) => setA(Number(e.currentTarget.value))}>
            {options}
          </select>
        </label>
        <label>
          Right (newer)
          <select value={b} onChange={(e) => setB(Number(e.currentTarget.value))}>
            {options}
          </select>
        </label>
      </div>
      <ErrorAlert message={texts.error} />
      {texts.data === undefined ? (
        <p class="muted">Loading the revisions…</p>
      ) : (
        <>
          <div class="diff-labels" aria-hidden="true">
            <span>Revision {texts.data[0].revision}</span>
            <span>Revision {texts.data[1].revision}</span>
          </div>
          <YamlDiff
            a={texts.data[0].definition}
            b={texts.data[1].definition}
            labelA={`Revision ${texts.data[0].revision}`}
            labelB={`Revision ${texts.data[1].revision}`}
          />
        </>
      )}
    </section>
  )
}
