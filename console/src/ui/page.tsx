import type { ComponentChildren } from 'preact'
import { useEffect } from 'preact/hooks'

/** A page: its heading, the document's title, and actions beside the heading. */
export function Page({ title, actions, children }: { title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · Evercycle console`
  }, [title])
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page-header">
        <h1 id="page-title">{title}</h1>
        {actions === undefined ? null : <div class="page-actions">{actions}</div>}
      </header>
      {children}
    </section>
  )
}
