import type { Match } from '../../router.js'
import { Page } from '../../ui/page.js'

export function GatewayPage(_props: { match: Match }) {
  return <Page title="GatewayPage">Not built yet.</Page>
}
