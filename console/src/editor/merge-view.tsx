import { MergeView } from '@codemirror/merge'
import { EditorView } from '@codemirror/view'
import { useEffect, useRef } from 'preact/hooks'
import { baseExtensions } from './setup.js'

/** Two YAML texts side by side, read-only, with their differences marked; `labelA`/`labelB` name each side. */
export function YamlDiff({ a, b, labelA, labelB }: { a: string; b: string; labelA: string; labelB: string }) {
  const host = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (host.current === null) return
    const merge = new MergeView({
      parent: host.current,
      a: { doc: a, extensions: [baseExtensions({ language: 'yaml', label: labelA, readOnly: true }), EditorView.editable.of(false)] },
      b: { doc: b, extensions: [baseExtensions({ language: 'yaml', label: labelB, readOnly: true }), EditorView.editable.of(false)] },
      gutter: true,
      highlightChanges: true,
      collapseUnchanged: { margin: 3, minSize: 8 }
    })
    return () => merge.destroy()
  }, [a, b, labelA, labelB])
  return <div ref={host} class="yaml-diff" />
}
