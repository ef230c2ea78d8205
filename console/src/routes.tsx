import type { FunctionComponent } from 'preact'
import { AccountsPage } from './pages/admin/accounts.js'
import { GatewayPage } from './pages/admin/gateway.js'
import { MyAccountPage } from './pages/admin/my-account.js'
import { SecretsPage } from './pages/admin/secrets.js'
import { ExecutionsPage } from './pages/executions/list.js'
import { FlowsPage } from './pages/flows/list.js'
import type { Match } from './router.js'
import { lazyPage } from './ui/lazy-page.js'

// the pages with CodeMirror or the graph load on first use
const FlowEditorPage = lazyPage(async () => (await import('./pages/flows/editor.js')).FlowEditorPage)
const FlowVersionsPage = lazyPage(async () => (await import('./pages/flows/versions.js')).FlowVersionsPage)
const ExecutionPage = lazyPage(async () => (await import('./pages/executions/view.js')).ExecutionPage)

export interface Route {
  pattern: string
  page: FunctionComponent<{ match: Match }>
  /** Shown only to admins (the API refuses the others anyway). */
  admin?: boolean
}

/**
 * Every page of the console. To add one: write `pages/<area>/<name>.tsx` exporting a component that takes
 * `{ match }`, add its route here, and (if it is a place of its own) its link in `nav.tsx`.
 */
export const ROUTES: readonly Route[] = [
  { pattern: '/flows', page: FlowsPage },
  { pattern: '/flows/new', page: FlowEditorPage },
  { pattern: '/flows/:id', page: FlowEditorPage },
  { pattern: '/flows/:id/versions', page: FlowVersionsPage },
  { pattern: '/executions', page: ExecutionsPage },
  { pattern: '/executions/:id', page: ExecutionPage },
  { pattern: '/secrets', page: SecretsPage },
  { pattern: '/accounts', page: AccountsPage, admin: true },
  { pattern: '/account', page: MyAccountPage },
  { pattern: '/gateway', page: GatewayPage }
]
