import { Type } from '@sinclair/typebox'
import { defineEndpoint } from '../src/evercycle/operation.js'

export default defineEndpoint({
  name: 'grade',
  method: 'PUT',
  path: '/v1/pricebook/{id}/{grade}',
  description: 'Update a pricebook grade (`id` and `grade` in the body, optional `price`)',
  // its reads are stale once it succeeds
  invalidates: ['get-all', 'get-asset-id'],
  pathParams: {
    id: { from: 'body', description: 'Pricebook id' },
    grade: { from: 'body', description: 'Grade name' }
  },
  body: Type.Object({ price: Type.Optional(Type.Number({ minimum: 0 })) }, { additionalProperties: true })
})
