import type { Match } from '../../router.js'
import { Page } from '../../ui/page.js'

export function FlowsPage(_props: { match: Match }) {
  return <Page title="FlowsPage">Not built yet.</Page>
}
