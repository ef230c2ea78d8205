import { useEffect, useState } from 'preact/hooks'
import { ApiError } from '../../api/client.js'
import { messageOf, problemsOf } from '../../api/errors.js'
import type { EditorProblem } from '../../editor/problems.js'
import { validateFlow } from './api.js'

/** How long typing must pause before the definition is checked: one request per pause, not per key. */
const DEBOUNCE_MS = 400

export interface Check {
  /** The last answer's verdict; kept while a newer check runs, so the list does not flicker as one types. */
  state: 'idle' | 'valid' | 'invalid' | 'failed'
  pending: boolean
  problems: EditorProblem[]
  /** Why the check itself could not be made (network, rate limit), as opposed to problems in the definition. */
  error?: string
}

/** "Line 7: nodes.start.type unknown node type", or without a line when the problem has none. */
export function problemText(p: { field?: string; reason?: string; line?: number }): string {
  const what = [p.field, p.reason].filter((s) => s !== undefined && s !== '').join(' ')
  return p.line === undefined ? what : `Line ${p.line}: ${what}`
}

/** The problems a save or check error names; a reply without per-field details becomes one problem of its message. */
export function problemsFromError(err: unknown): EditorProblem[] {
  const items = problemsOf(err).filter((p) => p.field !== undefined || p.reason !== undefined)
  if (items.length > 0) return items.map((p) => ({ line: p.line, column: p.column, message: problemText(p) }))
  return err instanceof ApiError && err.status === 422 ? [{ message: err.message }] : []
}

/** Checks `definition` with the server (POST /flows/validate) once typing pauses; a newer text cancels an older check. */
export function useValidation(definition: string): Check {
  const [check, setCheck] = useState<Check>({ state: 'idle', pending: false, problems: [] })
  useEffect(() => {
    if (definition.trim() === '') {
      setCheck({ state: 'invalid', pending: false, problems: [{ message: 'The definition is empty.' }] })
      return
    }
    const abort = new AbortController()
    const timer = setTimeout(() => {
      setCheck((c) => ({ ...c, pending: true }))
      validateFlow(definition, abort.signal).then(
        () => setCheck({ state: 'valid', pending: false, problems: [] }),
        (err: unknown) => {
          if (abort.signal.aborted) return
          const problems = problemsFromError(err)
          setCheck(
            problems.length > 0
              ? { state: 'invalid', pending: false, problems }
              : { state: 'failed', pending: false, problems: [], error: `Could not check the definition: ${messageOf(err)}` }
          )
        }
      )
    }, DEBOUNCE_MS)
    return () => {
      clearTimeout(timer)
      abort.abort()
    }
  }, [definition])
  return check
}
