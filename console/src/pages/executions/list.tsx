import type { Match } from '../../router.js'
import { Page } from '../../ui/page.js'

export function ExecutionsPage(_props: { match: Match }) {
  return <Page title="ExecutionsPage">Not built yet.</Page>
}
