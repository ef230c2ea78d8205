import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gatewayErrorBody } from '../http/error-body.js'
import type { GatewayMetrics } from './gateway-metrics.js'
import { METRICS_CHALLENGE, type MetricsToken } from './metrics-auth.js'

export interface MetricsListenerOptions {
  metrics: GatewayMetrics
  /** Required on this port too when set; without it the port's reachability is the protection. */
  token: MetricsToken | undefined
  log: { warn(obj: object, msg: string): void }
}

function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(gatewayErrorBody({ code, message, details: null }))
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers })
  res.end(body)
}

/**
 * `METRICS_PORT`: a second, minimal listener that serves only `GET /metrics`, meant for an address that only
 * the scraper reaches (a private interface, a container network), so the public port never exposes metrics.
 */
export class MetricsListener {
  private readonly server: Server

  constructor(private readonly options: MetricsListenerOptions) {
    this.server = createServer((req, res) => void this.handle(req, res))
    // a scraper keeps its connection alive between scrapes; don't let that hold the shutdown
    this.server.keepAliveTimeout = 5_000
  }

  get port(): number | undefined {
    const address = this.server.address() as AddressInfo | null
    return address?.port
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
  }

  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve()
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== '/metrics') return sendError(res, 404, 'not_found', `No route ${req.method ?? 'GET'} ${path}`)
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendError(res, 405, 'method_not_allowed', `${req.method ?? ''} is not allowed for /metrics; use GET`, { allow: 'GET, HEAD' })
    }
    if (this.options.token !== undefined && !this.options.token.accepts(req.headers.authorization)) {
      return sendError(res, 401, 'unauthorized', 'A valid metrics token is required', { 'www-authenticate': METRICS_CHALLENGE })
    }
    try {
      const text = await this.options.metrics.render()
      res.writeHead(200, { 'content-type': this.options.metrics.contentType, 'content-length': Buffer.byteLength(text) })
      res.end(req.method === 'HEAD' ? undefined : text)
    } catch (err) {
      this.options.log.warn({ err }, 'metrics: rendering failed')
      sendError(res, 500, 'internal_error', 'Internal server error')
    }
  }
}
