import { defineEndpoint } from '../src/evercycle/operation.js'
import { PassThroughQuerySchema } from './schemas.js'

export default defineEndpoint({
  name: 'get-all',
  method: 'GET',
  path: '/v1/asset',
  description: 'All assets (query passed through to Evercycle)',
  query: PassThroughQuerySchema
})
