import { Type } from '@sinclair/typebox'
import { hasExpression } from '../expressions.js'
import { checkUrl } from './checks.js'
import { HttpResultSchema } from './http-request.js'
import { defineNodeType, type ParamIssue } from './node-type.js'
import { asString, asStringRecord, runHttpNode } from '../runtime/http-node.js'

export const WebhookParamsSchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 8192,
      description: "The receiver's absolute http:// or https:// URL. Only public addresses are reached (the SSRF guard)."
    }),
    method: Type.Optional(Type.Union([Type.Literal('POST'), Type.Literal('PUT'), Type.Literal('PATCH')], { default: 'POST', description: 'The HTTP method.' })),
    headers: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.String(), {
        description: 'Request headers, name to value. `user-agent` defaults to "FlowRunner/1"; a JSON body sets `content-type: application/json` unless given.'
      })
    ),
    body: Type.Optional(Type.Unknown({ description: 'The payload: a string is sent as it is, any other value as JSON.' })),
    /** Signs the body (HMAC-SHA256) so the receiver can check it came from us. */
    secret: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'A stored secret, written "${secrets.NAME}" (a literal is refused on save). With it the request carries `X-FlowRunner-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body bytes under the secret, so the receiver can check the payload came from this flow.'
      })
    )
  },
  { additionalProperties: false }
)

/** Delivers a payload to a webhook receiver, optionally signed. */
export const webhook = defineNodeType({
  type: 'webhook',
  description:
    "Delivers a payload to a webhook receiver, optionally signed with a stored secret. The result is the receiver's response; a status of 400 or more fails the node.",
  params: WebhookParamsSchema,
  result: HttpResultSchema,
  example: {
    summary: 'Tells a receiver that an order shipped, signed so the receiver can verify it.',
    flow: {
      metadata: { name: 'Notify shipment' },
      nodes: {
        notify: {
          type: 'webhook',
          params: {
            url: 'https://hooks.example.com/shipments',
            body: { event: 'order.shipped', order_id: '${input.order_id}', execution: '${execution.id}' },
            secret: '${secrets.SHIPMENTS_HOOK_KEY}'
          },
          retry: { max_attempts: 5, backoff_ms: 2000 }
        }
      }
    }
  },
  check: (params) => {
    const issues: ParamIssue[] = checkUrl(params.url, ['url'])
    // a literal here would sit in the flow definition in plain text, readable by anyone who can read the flow
    if (params.secret !== undefined && !hasExpression(params.secret)) {
      issues.push({ path: ['secret'], reason: 'must reference a stored secret, e.g. "${secrets.WEBHOOK_SECRET}", not a literal' })
    }
    return issues
  },
  run: (p, ctx) =>
    runHttpNode(
      {
        url: asString(p.url, 'url'),
        method: typeof p.method === 'string' ? p.method : 'POST',
        headers: asStringRecord(p.headers, 'headers'),
        body: p.body,
        ...(p.secret === undefined ? {} : { signingSecret: asString(p.secret, 'secret') })
      },
      ctx
    )
})
