import { setDiagnostics, type Diagnostic } from '@codemirror/lint'
import { RangeSetBuilder, StateEffect, StateField, type Text } from '@codemirror/state'
import { Decoration, EditorView, type DecorationSet } from '@codemirror/view'

/** A problem at a line (1-based) and maybe a column (1-based), as the API's validation details give them. */
export interface EditorProblem {
  line?: number
  column?: number
  message: string
}

/** The class on each line a problem names: tests and styles.css find marked lines by it. */
export const PROBLEM_LINE_CLASS = 'cm-problem-line'

const setProblemLines = StateEffect.define<number[]>()
const lineMark = Decoration.line({ class: PROBLEM_LINE_CLASS })

/** Line decorations for the lines with problems, mapped through edits until the next check replaces them. */
const problemLines = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(marks, tr) {
    let next = marks.map(tr.changes)
    for (const effect of tr.effects) if (effect.is(setProblemLines)) next = buildMarks(tr.newDoc, effect.value)
    return next
  },
  provide: (field) => EditorView.decorations.from(field)
})

function buildMarks(doc: Text, lines: number[]): DecorationSet {
  const builder = new RangeSetBuilder<Decoration>()
  for (const n of [...new Set(lines)].sort((a, b) => a - b)) {
    if (n < 1 || n > doc.lines) continue
    const line = doc.line(n)
    builder.add(line.from, line.from, lineMark)
  }
  return builder.finish()
}

function diagnosticOf(doc: Text, problem: EditorProblem): Diagnostic {
  // A problem without a line (a missing top-level key, say) is put on the first line, where the gutter shows it.
  const line = doc.line(Math.min(Math.max(problem.line ?? 1, 1), doc.lines))
  const from = Math.min(line.from + Math.max((problem.column ?? 1) - 1, 0), line.to)
  return { from, to: Math.max(from, line.to), severity: 'error', message: problem.message }
}

/** Shows `problems` in the editor: lint diagnostics (gutter, underline, tooltip) and a marked line for each. */
export function showProblems(view: EditorView, problems: EditorProblem[]): void {
  const doc = view.state.doc
  const lines = problems.flatMap((p) => (p.line === undefined ? [] : [p.line]))
  const lint = setDiagnostics(view.state, problems.map((p) => diagnosticOf(doc, p)))
  view.dispatch(lint, { effects: setProblemLines.of(lines) })
}

export const problemMarks = [problemLines]
