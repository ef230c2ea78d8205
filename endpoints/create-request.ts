import { Type } from '@sinclair/typebox'
import { defineEndpoint } from '../src/evercycle/operation.js'

export default defineEndpoint({
  name: 'create-request',
  method: 'POST',
  path: '/v1/asset/request',
  description: 'Create an asset request',
  body: Type.Object(
    {
      assetId: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Integer()])),
      type: Type.Optional(Type.String({ maxLength: 100 })),
      notes: Type.Optional(Type.String({ maxLength: 10000 }))
    },
    { additionalProperties: true }
  ),
  defaultBody: { type: 'pickup' }
})
