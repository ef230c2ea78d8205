import type { Match } from '../../router.js'
import { Page } from '../../ui/page.js'

export function ExecutionPage(_props: { match: Match }) {
  return <Page title="ExecutionPage">Not built yet.</Page>
}
