import { Type } from '@sinclair/typebox'
import { checkDuration, checkUrl } from './checks.js'
import { defineNodeType } from './node-type.js'
import { parseDuration } from '../duration.js'
import { asRecord, asString, asStringRecord, runHttpNode } from '../runtime/http-node.js'
import { NodeFailure } from '../runtime/node-runtime.js'

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const

export const HttpRequestParamsSchema = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 8192 }),
    method: Type.Optional(Type.Union(METHODS.map((m) => Type.Literal(m)), { default: 'GET' })),
    headers: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String())),
    /** Appended to the URL's own query; a list repeats the parameter. */
    query: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.Unknown())),
    body: Type.Optional(Type.Unknown()),
    timeout: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1 })]))
  },
  { additionalProperties: false }
)

/** Calls any HTTP API; the result is the status, headers and (JSON or text) body. */
export const httpRequest = defineNodeType({
  type: 'http.request',
  description: 'Calls an HTTP API',
  params: HttpRequestParamsSchema,
  check: (params) => [...checkUrl(params.url, ['url']), ...checkDuration(params.timeout, ['timeout'])],
  run: async (p, ctx) => {
    const timeoutMs = typeof p.timeout === 'number' || typeof p.timeout === 'string' ? parseDuration(p.timeout) : undefined
    if (p.timeout !== undefined && timeoutMs === undefined) throw new NodeFailure(`Invalid timeout ${JSON.stringify(p.timeout)}`, false)
    return runHttpNode(
      {
        url: asString(p.url, 'url'),
        method: typeof p.method === 'string' ? p.method : 'GET',
        headers: asStringRecord(p.headers, 'headers'),
        query: asRecord(p.query, 'query'),
        body: p.body,
        ...(timeoutMs === undefined ? {} : { timeoutMs })
      },
      ctx
    )
  }
})
