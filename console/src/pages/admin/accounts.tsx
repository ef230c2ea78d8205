import type { Match } from '../../router.js'
import { Page } from '../../ui/page.js'

export function AccountsPage(_props: { match: Match }) {
  return <Page title="AccountsPage">Not built yet.</Page>
}
