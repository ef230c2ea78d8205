import type { Match } from '../../router.js'
import { Page } from '../../ui/page.js'

export function FlowVersionsPage(_props: { match: Match }) {
  return <Page title="FlowVersionsPage">Not built yet.</Page>
}
