import { defaultKeymap, history, historyKeymap } from '@codemirror/commands'
import { json } from '@codemirror/lang-json'
import { yaml } from '@codemirror/lang-yaml'
import { bracketMatching, HighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language'
import { lintGutter } from '@codemirror/lint'
import { EditorState, type Extension } from '@codemirror/state'
import { drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from '@codemirror/view'
import { tags } from '@lezer/highlight'
import { cspNonce } from '../ui/csp.js'

export type Language = 'yaml' | 'json'

/**
 * Token colours as CSS variables (styles.css, "Code editor"): CodeMirror's default highlight style is made for a
 * light background only, and its purples and blues fail contrast in the dark theme.
 */
const highlight = HighlightStyle.define([
  { tag: [tags.keyword, tags.bool, tags.null], color: 'var(--code-keyword)' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--code-string)' },
  { tag: [tags.number], color: 'var(--code-number)' },
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: 'var(--code-property)' },
  { tag: [tags.comment, tags.meta], color: 'var(--muted)', fontStyle: 'italic' },
  { tag: tags.invalid, color: 'var(--bad)' }
])

/** The editor's own surfaces follow the page's theme variables. */
const theme = EditorView.theme({
  '&': { backgroundColor: 'var(--surface)', color: 'var(--text)', border: '1px solid var(--border)', borderRadius: 'var(--radius)' },
  '&.cm-focused': { outline: '3px solid var(--focus)', outlineOffset: '2px' },
  '.cm-content': { fontFamily: 'var(--mono)', caretColor: 'var(--text)' },
  '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--text)' },
  '.cm-gutters': { backgroundColor: 'var(--surface-2)', color: 'var(--muted)', borderRight: '1px solid var(--border)' },
  '.cm-activeLine': { backgroundColor: 'transparent' },
  '&.cm-focused .cm-activeLine': { backgroundColor: 'var(--active-line)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--surface)', color: 'var(--text)' },
  '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground': {
    backgroundColor: 'var(--selection)'
  },
  '.cm-matchingBracket': { outline: '1px solid var(--muted)', backgroundColor: 'transparent' },
  '.cm-scroller': { overflow: 'auto' }
})

/**
 * What every editor of the console has: line numbers, undo history, the default keymap (Tab is left to move focus,
 * so the keyboard never gets trapped in the editor), highlighting, bracket matching, the lint gutter, and the page's
 * CSP nonce for the styles CodeMirror injects. `label` is the editable element's accessible name.
 */
export function baseExtensions(options: { language: Language; label: string; readOnly?: boolean; describedBy?: string }): Extension[] {
  const attrs: Record<string, string> = { 'aria-label': options.label }
  if (options.describedBy !== undefined) attrs['aria-describedby'] = options.describedBy
  const extensions: Extension[] = [
    EditorView.cspNonce.of(cspNonce()),
    EditorView.contentAttributes.of(attrs),
    lineNumbers(),
    drawSelection(),
    syntaxHighlighting(highlight),
    bracketMatching(),
    options.language === 'yaml' ? yaml() : json(),
    theme
  ]
  if (options.readOnly === true) {
    extensions.push(EditorState.readOnly.of(true))
  } else {
    extensions.push(
      history(),
      highlightActiveLine(),
      highlightActiveLineGutter(),
      indentOnInput(),
      lintGutter(),
      EditorState.tabSize.of(2),
      keymap.of([...defaultKeymap, ...historyKeymap])
    )
  }
  return extensions
}
