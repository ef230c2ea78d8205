import { Type } from '@sinclair/typebox'
import { checkDuration, checkUrl } from './checks.js'
import { defineNodeType } from './node-type.js'
import { parseDuration } from '../duration.js'
import { asRecord, asString, asStringRecord, runHttpNode } from '../runtime/http-node.js'
import { NodeFailure } from '../runtime/node-runtime.js'

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const

export const HttpRequestParamsSchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 8192,
      description: 'The absolute http:// or https:// URL to call. Only public addresses are reached (the SSRF guard, checked on every redirect).'
    }),
    method: Type.Optional(Type.Union(METHODS.map((m) => Type.Literal(m)), { default: 'GET', description: 'The HTTP method. A GET or HEAD sends no body.' })),
    headers: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.String(), {
        description: 'Request headers, name to value. `user-agent` defaults to "FlowRunner/1"; a JSON body sets `content-type: application/json` unless given.'
      })
    ),
    /** Appended to the URL's own query; a list repeats the parameter. */
    query: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.Unknown(), {
        description: "Query parameters appended to the URL's own; a list value repeats the parameter."
      })
    ),
    body: Type.Optional(
      Type.Unknown({ description: 'The request body: a string is sent as it is, any other value as JSON. Ignored for GET and HEAD.' })
    ),
    timeout: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1 })], {
        description: 'How long the request may take, in milliseconds or as a duration like "5s"; it can only shorten the node\'s own `timeout`. When absent, the node\'s timeout applies.'
      })
    )
  },
  { additionalProperties: false }
)

/** What an http.request or webhook node's result holds. */
export const HttpResultSchema = Type.Object({
  status_code: Type.Integer({ description: 'The response status; 400 and above fail the node (429 and 5xx are retryable).' }),
  headers: Type.Record(Type.String(), Type.String(), { description: 'Response headers, names in lower case; a repeated header is joined with ", ".' }),
  body: Type.Unknown({ description: 'The response body: parsed JSON when the content type says JSON, else the text.' })
})

/** Calls any HTTP API; the result is the status, headers and (JSON or text) body. */
export const httpRequest = defineNodeType({
  type: 'http.request',
  description:
    'Calls an HTTP API and gives its response. Redirects are followed (credentials are not carried to another origin); a status of 400 or more fails the node.',
  params: HttpRequestParamsSchema,
  result: HttpResultSchema,
  example: {
    summary: 'Fetches one order by the id the run was given, with a token from the account\'s secrets.',
    flow: {
      metadata: { name: 'Fetch an order' },
      nodes: {
        fetch: {
          type: 'http.request',
          params: {
            url: 'https://api.example.com/orders/${input.order_id}',
            method: 'GET',
            headers: { authorization: 'Bearer ${secrets.SHOP_TOKEN}' },
            query: { expand: ['lines', 'customer'] },
            timeout: '10s'
          },
          retry: { max_attempts: 3, backoff_ms: 500 }
        }
      }
    }
  },
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
