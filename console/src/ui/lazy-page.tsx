import type { FunctionComponent } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import type { Match } from '../router.js'

type PageComponent = FunctionComponent<{ match: Match }>

/**
 * A page whose code loads when it is first shown: the editor's CodeMirror and the graph's layout stay out of
 * the first load, which only needs the login form and the lists.
 */
export function lazyPage(load: () => Promise<PageComponent>): PageComponent {
  let loaded: PageComponent | undefined
  let failed: string | undefined
  return function LazyPage(props) {
    const [Page, setPage] = useState<PageComponent | undefined>(() => loaded)
    const [error, setError] = useState<string | undefined>(failed)
    useEffect(() => {
      if (Page !== undefined) return
      load().then(
        (component) => {
          loaded = component
          setPage(() => component)
        },
        (err: unknown) => {
          // a new build replaced the chunk this tab knew: a reload gets the current one
          failed = `This page could not load (${err instanceof Error ? err.message : String(err)}): reload the console.`
          setError(failed)
        }
      )
    }, [Page])
    if (Page !== undefined) return <Page {...props} />
    return error === undefined ? <p class="muted" role="status">Loading…</p> : <p class="alert alert-error" role="alert">{error}</p>
  }
}
