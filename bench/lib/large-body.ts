import { request } from 'undici'
import { getText } from './http.js'
import { rssOf, RssSampler } from './rss.js'
import { median } from './stats.js'

export interface LargeBodyResult {
  status: number
  bytes: number
  seconds: number
  /** Why the body is not the expected envelope; undefined when it is. */
  problem: string | undefined
  /** Undefined where /proc is not available. */
  baselineRss: number | undefined
  peakRss: number | undefined
  samples: number
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function envelopeProblem(text: string, bulk: number): string | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    return `not JSON: ${(err as Error).message}`
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'not a JSON object'
  const envelope = parsed as Record<string, unknown>
  const keys = Object.keys(envelope).sort().join(',')
  if (keys !== 'data,status' || envelope.status !== 'success') return `not {"status":"success","data":…} (keys ${keys})`
  const data = envelope.data as { assets?: unknown; total?: unknown } | null
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'data is not an object'
  if (!Array.isArray(data.assets) || data.assets.length !== bulk || data.total !== bulk) {
    return `data does not hold the ${bulk} assets the simulator sent`
  }
  return undefined
}

/**
 * Reads a ~50 MB upstream answer through the gateway and watches the gateway's RSS meanwhile. The gateway is
 * warmed first (small calls and one streamed body) so the growth measured is holding the body, not loading
 * code paths for the first time; the baseline is the median of a quiet half second just before.
 */
export async function largeBodyCheck(gatewayUrl: string, pid: number, headers: Record<string, string>, bulk: number): Promise<LargeBodyResult> {
  const url = `${gatewayUrl}/api/get-all`
  for (let i = 0; i < 20; i++) await Promise.all(Array.from({ length: 10 }, () => getText(url, headers)))
  const warm = await getText(`${url}?bulk=5000`, headers)
  if (warm.status !== 200) throw new Error(`warm-up bulk call answered ${warm.status}: ${warm.body.slice(0, 300)}`)

  const quiet: number[] = []
  for (let i = 0; i < 10; i++) {
    const rss = rssOf(pid)
    if (rss !== undefined) quiet.push(rss)
    await sleep(50)
  }
  const sampler = new RssSampler(pid, 50)
  sampler.start()
  const started = process.hrtime.bigint()
  const chunks: Buffer[] = []
  let bytes = 0
  let status = 0
  try {
    const res = await request(`${url}?bulk=${bulk}`, { headers, bodyTimeout: 60_000, headersTimeout: 60_000 })
    status = res.statusCode
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      chunks.push(chunk)
      bytes += chunk.length
    }
  } finally {
    sampler.stop()
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const text = Buffer.concat(chunks, bytes).toString('utf8')
  const problem = status === 200 ? envelopeProblem(text, bulk) : `HTTP ${status}: ${text.slice(0, 300)}`
  return {
    status,
    bytes,
    seconds,
    problem,
    baselineRss: quiet.length === 0 ? undefined : median(quiet),
    peakRss: sampler.samples > 0 ? sampler.peak : undefined,
    samples: sampler.samples
  }
}
