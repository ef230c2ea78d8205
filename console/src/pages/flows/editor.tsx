import { useMemo, useRef, useState } from 'preact/hooks'
import { messageOf } from '../../api/errors.js'
import type { FlowDetail } from '../../api/types.js'
import { CodeEditor, type CodeEditorHandle } from '../../editor/code-editor.js'
import type { EditorProblem } from '../../editor/problems.js'
import { FlowGraph, graphOf } from '../../graph/flow-graph.js'
import { href, navigate, withQuery, type Match } from '../../router.js'
import { ErrorAlert, Notice } from '../../ui/alert.js'
import { Page } from '../../ui/page.js'
import { useAsync } from '../../ui/use-async.js'
import { getFlow, latestRevision, orNotFound, saveFlow } from './api.js'
import { nameIn, withName } from './definition-name.js'
import { DeleteFlow } from './delete-flow.js'
import { ProblemsList } from './problems-list.js'
import { RunPanel } from './run-panel.js'
import { TriggersPanel } from './triggers-panel.js'
import { problemsFromError, useValidation } from './validation.js'

const NEW_FLOW = `metadata:
  name: New flow
  description: ""
nodes:
  start:
    type: transform
    params:
      expression: '{"greeting": "Hello, " & (input.name ? input.name : "world")}'
`

/**
 * A save of a new flow moves to the flow's own route, which mounts a new page: the revision saved is handed over
 * here so the new page can still say "Saved".
 */
let savedJustNow: { id: string; revision: number } | undefined

export function FlowEditorPage({ match }: { match: Match }) {
  const id = match.params.id
  const loaded = useAsync((signal) => (id === undefined ? Promise.resolve(undefined) : orNotFound(getFlow(id, signal))), [id])
  if (id === undefined) return <FlowEditor flow={undefined} />
  if (loaded.error !== undefined) {
    return (
      <Page title="Flow">
        <ErrorAlert message={loaded.error} />
      </Page>
    )
  }
  if (loaded.data === undefined) {
    return (
      <Page title="Flow">
        <p class="muted">Loading…</p>
      </Page>
    )
  }
  if (!loaded.data.found) {
    return (
      <Page title="Flow not found">
        <p>
          There is no flow <code>{id}</code> for this account: it may have been deleted, or belong to another account.{' '}
          <a href="#/flows">Back to the flows</a>
        </p>
      </Page>
    )
  }
  return <FlowEditor flow={loaded.data.value} />
}

function FlowEditor({ flow }: { flow: FlowDetail | undefined }) {
  const id = flow?.id
  const [text, setText] = useState(flow?.definition ?? NEW_FLOW)
  const [savedText, setSavedText] = useState(flow?.definition)
  const [lastName, setLastName] = useState(flow?.name ?? 'New flow')
  const [saving, setSaving] = useState(false)
  const [saveError, setSaveError] = useState<string>()
  const [saveProblems, setSaveProblems] = useState<EditorProblem[]>([])
  const [saved, setSaved] = useState<number | undefined>(() => {
    const just = savedJustNow !== undefined && savedJustNow.id === id ? savedJustNow.revision : undefined
    savedJustNow = undefined
    return just
  })
  const [running, setRunning] = useState(false)
  const check = useValidation(text)
  const graph = useMemo(() => graphOf(text), [text])
  const name = useMemo(() => nameIn(text), [text]) ?? lastName

  const edit = (next: string): void => {
    setText(next)
    setSaved(undefined)
    setSaveProblems([])
    setSaveError(undefined)
    const n = nameIn(next)
    if (n !== undefined) setLastName(n)
  }
  const yamlEditor = useRef<CodeEditorHandle>(null)
  const runButton = useRef<HTMLButtonElement>(null)
  const closeRun = (): void => {
    setRunning(false)
    runButton.current?.focus()
  }
  // Through the editor, which then reports the new text as it does for typing (and keeps it in its undo history).
  const rename = (next: string): void => {
    const updated = withName(text, next)
    if (updated !== undefined) yamlEditor.current?.setText(updated)
  }

  const save = async (): Promise<void> => {
    setSaving(true)
    setSaveError(undefined)
    setSaveProblems([])
    try {
      const result = await saveFlow(id, text)
      const revision = await latestRevision(result.id)
      if (id === undefined) {
        savedJustNow = { id: result.id, revision }
        navigate(href('/flows', result.id))
        return
      }
      setSavedText(text)
      setSaved(revision)
    } catch (err) {
      setSaveError(`Not saved: ${messageOf(err)}`)
      setSaveProblems(problemsFromError(err))
    } finally {
      setSaving(false)
    }
  }

  const problems = saveProblems.length > 0 ? saveProblems : check.problems
  // Each of these parses the YAML: once per text, not once per render.
  const nameEditable = useMemo(() => withName(text, name) !== undefined, [text, name])
  const actions = (
    <>
      <button type="button" class="primary" onClick={() => void save()} disabled={saving}>
        {saving ? 'Saving…' : 'Save'}
      </button>
      {id === undefined ? null : (
        <>
          <button type="button" ref={runButton} onClick={() => setRunning(true)} aria-expanded={running} aria-controls={running ? 'run-panel' : undefined}>
            Run
          </button>
          <a class="button" href={href('/flows', id, 'versions')}>
            Versions
          </a>
          <a class="button" href={withQuery('#/executions', { flow_id: id })}>
            Executions
          </a>
        </>
      )}
    </>
  )

  return (
    <Page title={id === undefined ? 'New flow' : `Flow: ${name}`} actions={actions}>
      {saved === undefined ? null : <Notice>Saved: revision {saved}</Notice>}
      <ErrorAlert message={saveError} />
      <div class="flow-name">
        <label for="flow-name">Name</label>
        <input
          id="flow-name"
          value={name}
          readOnly={!nameEditable}
          aria-describedby="flow-name-hint"
          onInput={(e) => rename(e.currentTarget.value)}
        />
        <span id="flow-name-hint" class="muted">
          {nameEditable ? 'The definition’s metadata.name.' : 'Fix the definition to edit its name here.'}
          {savedText !== undefined && savedText !== text ? ' Unsaved changes.' : ''}
        </span>
      </div>
      {id === undefined || !running ? null : <RunPanel flowId={id} dirty={savedText !== text} onClose={closeRun} />}
      <div class="flow-editor-grid">
        <div class="flow-editor-yaml">
          <h2 id="definition-heading">Flow definition</h2>
          <CodeEditor
            initial={text}
            handle={yamlEditor}
            onChange={edit}
            language="yaml"
            label="Flow definition"
            problems={problems}
            describedBy="definition-problems"
            class="code-editor flow-yaml"
          />
          <ProblemsList id="definition-problems" check={check} saveProblems={saveProblems} />
        </div>
        <div class="flow-editor-graph">
          <h2>Graph</h2>
          {graph === undefined ? (
            <p class="muted">The graph appears when the definition is YAML with a nodes map.</p>
          ) : (
            <FlowGraph graph={graph} label={`Graph of ${name}`} />
          )}
        </div>
      </div>
      {id === undefined ? null : <TriggersPanel flowId={id} reloadKey={savedText} />}
      {id === undefined ? null : <DeleteFlow flowId={id} name={name} />}
    </Page>
  )
}
