import type { Match } from '../../router.js'
import { Page } from '../../ui/page.js'

export function MyAccountPage(_props: { match: Match }) {
  return <Page title="MyAccountPage">Not built yet.</Page>
}
