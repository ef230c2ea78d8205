import { defineEndpoint } from '../src/evercycle/operation.js'
import { AssetFieldsSchema } from './schemas.js'

export default defineEndpoint({
  name: 'edit-asset-id',
  method: 'PUT',
  path: '/v1/asset/{id}',
  description: 'Edit an asset (`id` in the body, the other fields are the update)',
  // its reads are stale once it succeeds
  invalidates: ['get-all', 'get-asset-id'],
  pathParams: { id: { from: 'body', description: 'Asset id' } },
  body: AssetFieldsSchema
})
