import { EditorState } from '@codemirror/state'
import { EditorView } from '@codemirror/view'
import type { RefObject } from 'preact'
import { useEffect, useRef } from 'preact/hooks'
import { problemMarks, showProblems, type EditorProblem } from './problems.js'
import { baseExtensions, type Language } from './setup.js'

/** What a page may do to the text from outside (the flow's Name field rewriting metadata.name). */
export interface CodeEditorHandle {
  /** Replaces the differing part of the text only, so the cursor stays where it can; onChange follows as for typing. */
  setText(text: string): void
}

export interface CodeEditorProps {
  /** The text at mount. The editor owns its text afterwards: see `handle` for changes from outside. */
  initial: string
  onChange?: (text: string) => void
  handle?: RefObject<CodeEditorHandle | null>
  language: Language
  /** The accessible name of the editable area. */
  label: string
  problems?: EditorProblem[]
  readOnly?: boolean
  /** The id of an element describing the editor (its problems list, say). */
  describedBy?: string
  class?: string
}

/**
 * A CodeMirror 6 editor as a Preact component, made once at mount. It is deliberately not a controlled input:
 * pushing a `value` prop back into the view raced with typing (an older render's value undid newer keystrokes,
 * and the two could ping-pong without yielding to the browser).
 */
export function CodeEditor(props: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null)
  const view = useRef<EditorView | null>(null)
  const onChange = useRef(props.onChange)
  onChange.current = props.onChange

  useEffect(() => {
    if (host.current === null) return
    const editor = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: props.initial,
        extensions: [
          baseExtensions({ language: props.language, label: props.label, readOnly: props.readOnly, describedBy: props.describedBy }),
          problemMarks,
          EditorView.updateListener.of((update) => {
            if (update.docChanged) onChange.current?.(update.state.doc.toString())
          })
        ]
      })
    })
    view.current = editor
    if (props.handle !== undefined) {
      props.handle.current = {
        setText(text) {
          const current = editor.state.doc.toString()
          if (current !== text) editor.dispatch({ changes: changeBetween(current, text) })
        }
      }
    }
    return () => {
      editor.destroy()
      view.current = null
      if (props.handle !== undefined) props.handle.current = null
    }
  }, [])

  useEffect(() => {
    if (view.current !== null) showProblems(view.current, props.problems ?? [])
  }, [props.problems])

  return <div ref={host} class={props.class ?? 'code-editor'} />
}

/** The one replacement turning `a` into `b`: the common start and end are kept. */
function changeBetween(a: string, b: string): { from: number; to: number; insert: string } {
  let start = 0
  while (start < a.length && start < b.length && a[start] === b[start]) start++
  let end = 0
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++
  return { from: start, to: a.length - end, insert: b.slice(start, b.length - end) }
}
