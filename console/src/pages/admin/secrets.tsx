import type { Match } from '../../router.js'
import { Page } from '../../ui/page.js'

export function SecretsPage(_props: { match: Match }) {
  return <Page title="SecretsPage">Not built yet.</Page>
}
