// autocannon ships no types; this covers only the programmatic API the bench uses.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  namespace autocannon {
    interface Options {
      url: string
      connections?: number
      duration?: number
      pipelining?: number
      /** Seconds before a request counts as a timeout. */
      timeout?: number
      method?: string
      headers?: Record<string, string>
      title?: string
      /** Requests per second across all connections: a fixed offered load instead of as fast as possible. */
      overallRate?: number
      /** Replace `[<id>]` in the URL (and body) with a fresh unique id on every request. */
      idReplacement?: boolean
    }

    interface Stats {
      average: number
      mean: number
      stddev: number
      min: number
      max: number
      total: number
      p50: number
      p90: number
      p99: number
    }

    interface Result {
      title?: string
      url: string
      connections: number
      /** Seconds the run lasted. */
      duration: number
      errors: number
      timeouts: number
      non2xx: number
      resets: number
      '2xx': number
      statusCodeStats: Record<string, { count: number }>
      latency: Stats
      requests: Stats & { sent: number }
      throughput: Stats
    }

    /** An autocannon run; `response` carries (client, statusCode, bytes, responseTimeMs) for every response. */
    interface Instance extends EventEmitter {
      stop(): void
    }
  }

  function autocannon(options: autocannon.Options, callback: (err: Error | null, result: autocannon.Result) => void): autocannon.Instance

  export = autocannon
}
