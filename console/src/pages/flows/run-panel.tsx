import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { messageOf } from '../../api/errors.js'
import type { ExecutionDetail } from '../../api/types.js'
import { CodeEditor } from '../../editor/code-editor.js'
import type { EditorProblem } from '../../editor/problems.js'
import { href, navigate } from '../../router.js'
import { ErrorAlert } from '../../ui/alert.js'
import { duration, pretty } from '../../ui/format.js'
import { StatusBadge } from '../../ui/status.js'
import { runFlow } from './api.js'

type Parsed = { ok: true; input: Record<string, unknown> } | { ok: false; problem: EditorProblem }

/** The run input must be a JSON object (the API's `input`); a syntax error names its line when the engine says where. */
export function parseInput(text: string): Parsed {
  if (text.trim() === '') return { ok: true, input: {} }
  try {
    const value: unknown = JSON.parse(text)
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { ok: false, problem: { line: 1, message: 'Input must be a JSON object, like {"name": "Ada"}.' } }
    }
    return { ok: true, input: value as Record<string, unknown> }
  } catch (err) {
    const message = messageOf(err)
    const lineCol = /line (\d+) column (\d+)/.exec(message)
    const position = /position (\d+)/.exec(message)
    const line = lineCol !== null ? Number(lineCol[1]) : position !== null ? text.slice(0, Number(position[1])).split('\n').length : undefined
    return { ok: false, problem: { line, message: `Input is not valid JSON: ${message}` } }
  }
}

/** Starts a run of the saved flow with a JSON input; without waiting, it moves to the new execution's page. */
export function RunPanel({ flowId, dirty, onClose }: { flowId: string; dirty: boolean; onClose: () => void }) {
  const [input, setInput] = useState('{\n  \n}\n')
  const [wait, setWait] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string>()
  const [ended, setEnded] = useState<ExecutionDetail>()
  const parsed = useMemo(() => parseInput(input), [input])
  const heading = useRef<HTMLHeadingElement>(null)
  // The panel opens above the editor: keyboard and screen reader users are taken to it.
  useEffect(() => heading.current?.focus(), [])

  const run = async (): Promise<void> => {
    if (!parsed.ok) return
    setBusy(true)
    setError(undefined)
    setEnded(undefined)
    try {
      const outcome = await runFlow(flowId, parsed.input, wait)
      if (!outcome.ended) {
        navigate(href('/executions', outcome.reply.execution_id))
        return
      }
      setEnded(outcome.execution)
    } catch (err) {
      setError(`Not started: ${messageOf(err)}`)
    } finally {
      setBusy(false)
    }
  }

  return (
    <section id="run-panel" class="card run-panel" aria-labelledby="run-heading">
      <h2 id="run-heading" ref={heading} tabIndex={-1}>
        Run this flow
      </h2>
      {dirty ? <p class="muted">This runs the last saved revision: unsaved changes in the editor are not included.</p> : null}
      <p id="run-input-label" class="run-input-label">
        Input <span class="muted">(a JSON object, the flow's <code>input</code>)</span>
      </p>
      <CodeEditor
        initial={input}
        onChange={setInput}
        language="json"
        label="Input"
        problems={parsed.ok ? [] : [parsed.problem]}
        describedBy="run-input-problem"
        class="code-editor run-input"
      />
      <p id="run-input-problem" class="field-problem" aria-live="polite">
        {parsed.ok ? '' : parsed.problem.message}
      </p>
      <label class="checkbox">
        <input type="checkbox" checked={wait} onChange={(e) => setWait(e.currentTarget.checked)} />
        Wait for the result <span class="muted">(up to 30 s)</span>
      </label>
      <div class="run-actions">
        <button type="button" class="primary" onClick={() => void run()} disabled={busy || !parsed.ok}>
          {busy ? 'Starting…' : 'Start the run'}
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <ErrorAlert message={error} />
      {ended === undefined ? null : <RunResult execution={ended} />}
    </section>
  )
}

function RunResult({ execution }: { execution: ExecutionDetail }) {
  return (
    <div class="run-result" role="status">
      <p>
        The run ended: <StatusBadge status={execution.status} /> in {duration(execution.duration)}.{' '}
        <a href={href('/executions', execution.id)}>Open the execution</a>
      </p>
      {execution.error === undefined ? null : <p class="alert alert-error">{execution.error}</p>}
      <h3>Result</h3>
      <pre>{pretty(execution.result)}</pre>
    </div>
  )
}
