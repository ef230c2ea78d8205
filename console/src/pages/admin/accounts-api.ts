import { api } from '../../api/client.js'
import type { Account, Page, Role } from '../../api/types.js'

export interface AccountList extends Page {
  accounts: Account[]
}

export function listAccounts(options: { limit: number; offset: number; role?: Role | undefined; signal?: AbortSignal }): Promise<AccountList> {
  return api<AccountList>('GET', '/api/v1/accounts', {
    query: { limit: options.limit, offset: options.offset, role: options.role },
    ...(options.signal === undefined ? {} : { signal: options.signal })
  })
}

/** The API pages by at most 100; a picker wants them all, up to a bound that keeps one page load cheap. */
const PICKER_MAX = 1000

export async function allAccounts(signal: AbortSignal): Promise<Account[]> {
  const out: Account[] = []
  for (let offset = 0; offset < PICKER_MAX; offset += 100) {
    const page = await listAccounts({ limit: 100, offset, signal })
    out.push(...page.accounts)
    if (page.accounts.length === 0 || out.length >= page.total) break
  }
  return out
}

export function accountPath(id: string, ...rest: string[]): string {
  return ['/api/v1/accounts', id, ...rest].map((p, i) => (i === 0 ? p : encodeURIComponent(p))).join('/')
}

/** "Ada Lovelace <ada@example.com>", or the email alone when the name is empty. */
export function accountLabel(a: Pick<Account, 'name' | 'email'>): string {
  return a.name === '' ? a.email : `${a.name} <${a.email}>`
}
