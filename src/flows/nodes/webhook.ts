import { Type } from '@sinclair/typebox'
import { hasExpression } from '../expressions.js'
import { checkUrl } from './checks.js'
import { defineNodeType, type ParamIssue } from './node-type.js'
import { asString, asStringRecord, runHttpNode } from '../runtime/http-node.js'

export const WebhookParamsSchema = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 8192 }),
    method: Type.Optional(Type.Union([Type.Literal('POST'), Type.Literal('PUT'), Type.Literal('PATCH')], { default: 'POST' })),
    headers: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String())),
    body: Type.Optional(Type.Unknown()),
    /** Signs the body (HMAC-SHA256) so the receiver can check it came from us. */
    secret: Type.Optional(Type.String({ minLength: 1 }))
  },
  { additionalProperties: false }
)

/** Delivers a payload to a webhook receiver, optionally signed. */
export const webhook = defineNodeType({
  type: 'webhook',
  description: 'Delivers a payload to a webhook',
  params: WebhookParamsSchema,
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
