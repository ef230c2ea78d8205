import type { Match } from '../../router.js'
import { Page } from '../../ui/page.js'

export function FlowEditorPage(_props: { match: Match }) {
  return <Page title="FlowEditorPage">Not built yet.</Page>
}
