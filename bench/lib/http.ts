import { createServer } from 'node:net'
import { request } from 'undici'

export interface TextResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export async function getText(url: string, headers: Record<string, string> = {}): Promise<TextResponse> {
  const res = await request(url, { headers })
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() }
}

export async function postJson(url: string, payload: unknown): Promise<TextResponse> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload)
  })
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() }
}

/** Polls until `url` answers 200; a connection refused just means "not listening yet". */
export async function waitFor200(
  url: string,
  timeoutMs: number,
  isDead: () => boolean,
  headers: Record<string, string> = {}
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer'
  while (Date.now() < deadline) {
    if (isDead()) throw new Error(`process behind ${url} exited while starting`)
    try {
      const res = await getText(url, headers)
      if (res.status === 200) return
      last = `HTTP ${res.status}`
    } catch (err) {
      last = (err as Error).message
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms (${last})`)
}

/** A port the OS considers free right now (the child binds it a moment later; a collision would show as a boot error). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port from the OS')
  return address.port
}
