import type { EditorProblem } from '../../editor/problems.js'
import type { Check } from './validation.js'

/**
 * The definition's problems as text, in a polite live region: screen readers hear the new list when typing pauses
 * and the check answers, without an interruption per key. The editor marks the same lines.
 */
export function ProblemsList({ id, check, saveProblems }: { id: string; check: Check; saveProblems: EditorProblem[] }) {
  const problems = saveProblems.length > 0 ? saveProblems : check.problems
  return (
    <div id={id} class="flow-problems" aria-live="polite">
      {problems.length > 0 ? (
        <>
          <p class="flow-problems-title">
            {problems.length === 1 ? '1 problem' : `${problems.length} problems`} in the definition:
          </p>
          <ul>
            {problems.map((p, i) => (
              <li key={i}>{p.message}</li>
            ))}
          </ul>
        </>
      ) : check.state === 'failed' ? (
        <p class="muted">{check.error}</p>
      ) : check.state === 'valid' ? (
        <p class="flow-problems-ok">No problems found.</p>
      ) : check.pending ? (
        <p class="muted">Checking…</p>
      ) : null}
    </div>
  )
}
