import { defineEndpoint } from '../src/evercycle/operation.js'

export default defineEndpoint({
  name: 'get-asset-id',
  method: 'GET',
  path: '/v1/asset/{id}',
  description: 'Asset by id (`?id=`)',
  pathParams: { id: { from: 'query', description: 'Asset id' } }
})
