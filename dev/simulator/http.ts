import type { IncomingMessage, ServerResponse } from 'node:http'

/** Latency that ends early when the client goes away, so no timer outlives the request. */
export function pause(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    res.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

export async function readJson(req: IncomingMessage): Promise<{ value: unknown; error: boolean }> {
  if (req.method === 'GET' || req.method === 'HEAD') {
    req.resume()
    return { value: undefined, error: false }
  }
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  if (text === '') return { value: undefined, error: false }
  try {
    return { value: JSON.parse(text), error: false }
  } catch {
    return { value: undefined, error: true }
  }
}
