import { defineEndpoint } from '../src/evercycle/operation.js'
import { AssetFieldsSchema } from './schemas.js'

export default defineEndpoint({
  name: 'create',
  method: 'POST',
  path: '/v1/asset/create',
  description: 'Create a new asset',
  // its reads are stale once it succeeds
  invalidates: ['get-all', 'get-asset-id'],
  body: AssetFieldsSchema,
  defaultBody: { status: 'active' }
})
