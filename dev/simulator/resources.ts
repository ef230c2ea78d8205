import { randomUUID } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import type { Asset, SimulatorCall } from './types.js'

/* The API's resources: assets, asset requests and the pricebook, in memory. */

/** The simulator's data, which tests read (and may replace) on the simulator itself. */
export interface ResourceState {
  assets: Map<string, Asset>
  requests: Array<Record<string, unknown>>
  pricebook: Map<string, Record<string, unknown>>
}

export function seedAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>()
  const models = ['MacBook Pro 14', 'iPhone 15', 'ThinkPad X1', 'Pixel 8', 'iPad Air']
  models.forEach((name, i) => {
    const id = String(1001 + i)
    assets.set(id, { id, name, status: i % 2 === 0 ? 'active' : 'retired', serialNumber: `SN-${id}`, grade: 'B' })
  })
  return assets
}

/** `/v1/asset...` and `/v1/pricebook/{id}/{grade}`, for an authenticated call. */
export function routeResources(
  state: ResourceState,
  method: string,
  rawPath: string,
  query: URLSearchParams,
  body: unknown,
  reply: (status: number, payload: unknown) => void,
  res: ServerResponse,
  call: SimulatorCall
): void {
  const segments = rawPath.split('/').slice(1)
  let decoded: string[]
  try {
    decoded = segments.map((s) => decodeURIComponent(s))
  } catch {
    return reply(400, { message: 'Bad path encoding' })
  }
  const [v, resource, a, b, extra] = decoded
  if (v !== 'v1' || extra !== undefined) return reply(404, { message: 'Not found' })
  const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>

  if (resource === 'asset') {
    if (method === 'GET' && a === undefined) {
      const bulk = Number(query.get('bulk') ?? 0)
      if (bulk > 0) {
        call.status = 200
        return streamBulk(res, bulk)
      }
      let list = [...state.assets.values()]
      const status = query.get('status')
      if (status !== null) list = list.filter((x) => x.status === status)
      return reply(200, { assets: list, total: list.length })
    }
    if (method === 'GET' && a !== undefined && b === undefined) {
      const asset = state.assets.get(a)
      return asset === undefined ? reply(404, { message: `Asset ${a} not found` }) : reply(200, asset)
    }
    if (method === 'POST' && a === 'create' && b === undefined) {
      const id = String(1001 + state.assets.size + state.requests.length + Math.floor(Math.random() * 1e6))
      const asset: Asset = { status: 'active', name: 'Unnamed asset', ...input, id }
      state.assets.set(id, asset)
      return reply(201, asset)
    }
    if (method === 'POST' && a === 'request' && b === undefined) {
      const request = { ...input, requestId: randomUUID(), status: 'pending' }
      state.requests.push(request)
      return reply(201, request)
    }
    if (method === 'PUT' && a !== undefined && b === undefined) {
      const asset = state.assets.get(a)
      if (asset === undefined) return reply(404, { message: `Asset ${a} not found` })
      const updated = { ...asset, ...input, id: asset.id }
      state.assets.set(a, updated)
      return reply(200, updated)
    }
  }
  if (resource === 'pricebook' && method === 'PUT' && a !== undefined && b !== undefined) {
    const entry = { ...input, id: a, grade: b, updatedAt: new Date().toISOString() }
    state.pricebook.set(`${a}/${b}`, entry)
    return reply(200, entry)
  }
  return reply(404, { message: 'Not found' })
}

/** `bulk` generated assets, written chunk by chunk with backpressure so the simulator holds none of it. */
function streamBulk(res: ServerResponse, count: number): void {
  res.writeHead(200, { 'content-type': 'application/json' })
  let i = 0
  const pad = 'x'.repeat(400)
  const write = (): void => {
    while (i < count) {
      const item = `${i === 0 ? '{"assets":[' : ','}{"id":"bulk-${i}","name":"Bulk asset ${i}","status":"active","notes":"${pad}"}`
      i++
      if (!res.write(item)) {
        res.once('drain', write)
        return
      }
    }
    res.end(`],"total":${count}}`)
  }
  write()
}

