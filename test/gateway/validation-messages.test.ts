import t from 'tap'
import { buildGateway, startSimulator } from '../helpers/gateway.js'

const SEGMENT = "id must be one path segment: not '.' or '..', without control characters"

t.test('a 400 validation_error says one plain sentence per field: no regex, no "anyOf"', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })

  const dots = await app.inject({ method: 'GET', url: '/api/get-asset-id?id=..' })
  t.equal(dots.statusCode, 400)
  t.same(dots.json(), {
    status: 'error',
    message: SEGMENT,
    error: { code: 'validation_error', message: SEGMENT, details: [{ field: 'querystring.id', message: SEGMENT }] }
  })
  t.notMatch(dots.body, /anyOf|\^\(\?!|must match/)

  const missing = await app.inject({ method: 'GET', url: '/api/get-asset-id' })
  t.same(missing.json().error, {
    code: 'validation_error',
    message: 'id is required',
    details: [{ field: 'querystring.id', message: 'id is required', missing: 'id' }]
  })

  const bodyId = await app.inject({ method: 'PUT', url: '/api/edit-asset-id', payload: { id: '..', name: 'x' } })
  t.same(bodyId.json().error.details, [{ field: 'body.id', message: SEGMENT }])

  const two = await app.inject({ method: 'PUT', url: '/api/grade', payload: { id: 'pb-7', price: 'cheap' } })
  t.same(two.json().error, {
    code: 'validation_error',
    message: 'grade is required; price must be a number',
    details: [
      { field: 'body.grade', message: 'grade is required', missing: 'grade' },
      { field: 'body.price', message: 'price must be a number' }
    ]
  })

  // a string-or-list query value too long: one sentence for the field, whichever form it came in
  const long = await app.inject({ method: 'GET', url: `/api/get-all?tag=${'a'.repeat(2001)}` })
  t.same(long.json().error.details, [{ field: 'querystring.tag', message: 'tag must be at most 2000 characters long' }])
  t.equal(sim.calls.length, 0, 'nothing invalid reached Evercycle')
})

t.test('FlowRunner keeps its invalid_request shape, with the same plain reasons', async (t) => {
  const { app } = await buildGateway(t)
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: '', password: 'x' } })
  t.equal(res.statusCode, 400)
  t.same(res.json(), {
    error: {
      code: 'invalid_request',
      message: 'The request was invalid: username must not be empty',
      details: {
        field: 'username',
        reason: 'must not be empty',
        location: 'body',
        errors: [{ field: 'username', reason: 'must not be empty' }]
      }
    }
  })
})
