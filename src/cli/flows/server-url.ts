import { usageError } from '../cli-error.js'

/** The server's own default port (config.ts), for a FlowRunner started with `npm start` on this machine. */
const DEFAULT_PORT = 5000

/**
 * Which FlowRunner server: `--server`, else FLOWRUNNER_URL, else the local server on PORT. Normalised (no
 * trailing slash) because it is also the key the login is kept under.
 */
export function serverUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const given = nonEmpty(flag) ?? nonEmpty(env.FLOWRUNNER_URL)
  const raw = given ?? `http://127.0.0.1:${nonEmpty(env.PORT) ?? DEFAULT_PORT}`
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw usageError(`--server must be an http(s) URL, got ${JSON.stringify(raw)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--server must be an http(s) URL, got ${JSON.stringify(raw)}`)
  if (url.username !== '' || url.password !== '') throw usageError('--server must not carry credentials: use `evercycle flows login`')
  url.search = ''
  url.hash = ''
  return url.href.replace(/\/+$/, '')
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim()
  return v === undefined || v === '' ? undefined : v
}
