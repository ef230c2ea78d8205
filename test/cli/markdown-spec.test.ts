import t from 'tap'
import { formatConfig, parseMarkdownSpec } from '../../src/evercycle/markdown-spec.js'

const BASE = { baseUrl: 'https://api.evercycle.io' }

t.test('a title on the first line falls back to the request line for the path', async (t) => {
  const result = parseMarkdownSpec('# Asset history\n## Description\nEvery change made to an asset\n\n`GET https://api.evercycle.io/v1/asset/<assetId>/history?limit=10`\n', BASE)
  t.same(result, {
    ok: true,
    spec: {
      config: {
        path: '/v1/asset/{assetId}/history',
        description: 'Every change made to an asset',
        method: 'GET',
        url: 'https://api.evercycle.io/v1/asset/{assetId}/history',
        headers: {},
        path_params: { assetId: '' },
        query_params: {},
        body: {}
      },
      fieldsWithoutDefault: [],
      warnings: []
    }
  })
})

t.test('body defaults: quoted strings, JSON, escaped pipes, forbidden keys', async (t) => {
  const spec = [
    'POST /v1/asset/create',
    'Create',
    '',
    '**Body Parameters**',
    '',
    'Note:',
    '',
    '| Name | Type | Default |',
    '|---|---|---|',
    '| label | string | "a \\| b" |',
    '| meta | object | {"x": 1} |',
    '| `__proto__` | object | {"admin": true} |',
    '| snake_case_field | string | x_y |',
    '| nested | object | {"constructor": 1} |',
    '| count | integer | 3 |',
    '| ok | bool | yes |'
  ].join('\n')
  const result = parseMarkdownSpec(spec, BASE)
  if (!result.ok) throw new Error(result.reason)
  t.same(result.spec.config.body, { label: 'a | b', meta: { x: 1 }, snake_case_field: 'x_y', count: 3, ok: true })
  t.same(result.spec.warnings, [
    'body field "__proto__" is a forbidden key: ignored',
    'body field "nested" has a forbidden key in its default: ignored'
  ])
  t.equal(Object.getPrototypeOf(result.spec.config.body), Object.prototype)
  t.match(formatConfig(result.spec.config), /^\{\n {2}"path": "\/v1\/asset\/create",\n/)
})

t.test('specs that cannot be parsed say why', async (t) => {
  const reasons = (text: string): string => {
    const r = parseMarkdownSpec(text, BASE)
    return r.ok ? 'parsed' : r.reason
  }
  t.equal(reasons(''), 'the file is empty')
  t.equal(reasons('```\nGET /v1/asset\n```\n'), 'the first line must be the path, not a code fence')
  t.equal(reasons('# /v1/asset\nAssets\n\nGET /v1/asset\nGET /v1/assets\n'), 'several request paths (/v1/asset, /v1/assets) in one spec: write one file per operation')
  t.equal(reasons('# Assets\nNo request line here\n'), 'no HTTP method found (expected a request line such as "GET https://api.evercycle.io/v1/asset")')
  t.equal(reasons('# Assets\nAll of them\n\nMethod: GET\n'), 'no path: the first line is not a path and no request line gives one')
  t.equal(reasons('# /v1/asset/{id\nBroken\n\nGET /v1/asset/{id\n'), 'path "/v1/asset/{id" has a malformed {placeholder}')
  // prose that mentions another method is not a request line
  t.equal(reasons('PUT /v1/asset/{id}\nEdit\n\nRead it first with GET /v1/asset/{id}, then send this.\n'), 'parsed')
})
