import t from 'tap'
import { parseDuration } from '../../src/flows/duration.js'
import { ExpressionError, parseTemplate, renderTemplate } from '../../src/flows/expressions.js'
import { validateDefinition, type DefinitionIssue } from '../../src/flows/validate-definition.js'

const ctx = { hasOperation: (name: string) => name === 'get-all', mayCallOperation: () => true }

function issues(source: string): DefinitionIssue[] {
  const result = validateDefinition(source, ctx)
  if (result.ok) throw new Error('expected the definition to be invalid')
  return result.issues
}

function spec(source: string) {
  const result = validateDefinition(source, ctx)
  if (!result.ok) throw new Error(`expected a valid definition: ${JSON.stringify(result.issues)}`)
  return result.spec
}

const doc = (nodes: string, metadata = '  name: test\n'): string => `metadata:\n${metadata}nodes:\n${nodes}`

t.test('the start node: metadata.start, else "start", else the only node nothing points to', async (t) => {
  const chain = '  a:\n    type: delay\n    params: { duration: 1 }\n    next: { default: b }\n  b:\n    type: delay\n    params: { duration: 1 }\n'
  t.equal(spec(doc(chain)).start, 'a', 'the only entry point')
  t.equal(spec(doc(chain, '  name: test\n  start: b\n')).start, 'b', 'metadata.start wins')
  t.equal(spec(doc(`${chain}  start:\n    type: delay\n    params: { duration: 1 }\n    next: { default: a }\n`)).start, 'start')
  t.match(issues(doc(chain, '  name: test\n  start: zzz\n')), [{ field: 'metadata.start', reason: /"zzz" does not exist/ }])
  const twoRoots = '  a:\n    type: delay\n    params: { duration: 1 }\n  b:\n    type: delay\n    params: { duration: 1 }\n'
  t.match(issues(doc(twoRoots)), [{ field: 'metadata.start', reason: /a, b are all entry points/ }])
})

t.test('structure: required metadata.name, known keys only, at least one node', async (t) => {
  t.match(issues('nodes:\n  a: { type: delay, params: { duration: 1 } }\n'), [{ field: 'metadata' }])
  t.match(issues('metadata: {}\nnodes:\n  a: { type: delay, params: { duration: 1 } }\n'), [{ field: 'metadata.name' }])
  t.match(issues(doc('  a:\n    type: delay\n    params: { duration: 1 }\n    nxt: { default: a }\n')), [{ field: 'nodes.a.nxt', line: 7 }], 'typos are errors')
  t.match(issues(doc('  {}\n')), [{ field: 'nodes' }])
  t.match(issues('- just\n- a list\n'), [{ field: 'definition', reason: /mapping/ }])
  t.match(issues(doc('  bad id:\n    type: delay\n    params: { duration: 1 }\n')), [{ field: 'nodes.bad id' }])
  t.match(issues(doc('  __proto__:\n    type: delay\n    params: { duration: 1 }\n')), [{ field: 'nodes.__proto__', reason: /not allowed/ }])
  t.match(issues('metadata: { name: a }\n---\nnodes: {}\n'), [{ field: 'definition', reason: /YAML syntax error/ }], 'one document only')
  t.match(issues('metadata: { name: a, name: b }\nnodes: {}\n'), [{ field: 'definition', reason: /YAML syntax error/ }], 'duplicate keys')
})

t.test('YAML syntax errors carry line and column', async (t) => {
  const [first] = issues('metadata:\n  name: x\nnodes:\n  a:\n    type: "unclosed\n')
  t.equal(first?.field, 'definition')
  t.ok((first?.line ?? 0) >= 5, 'where the scalar runs out')
  t.type(first?.column, 'number')
  const [second] = issues('metadata:\n  name: x\nnodes: a: b\n')
  t.match(second, { field: 'definition', line: 3 })
  t.match(issues('a: &x [*x, *x]\n'), [{ field: 'definition', reason: /refer to themselves/ }], 'a cyclic alias is refused, not a crash')
})

t.test('alias bombs are refused', async (t) => {
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
  for (let i = 1; i < 10; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`)
  t.match(issues(bomb.join('\n')), [{ field: 'definition', reason: /alias|Excessive/i }])
})

t.test('node params are checked against their type', async (t) => {
  const node = (type: string, params: string, extra = ''): string => doc(`  start:\n    type: ${type}\n    params:\n${params}${extra}`)
  t.match(issues(node('http.request', '      method: GET\n')), [{ field: 'nodes.start.params.url', line: 7 }])
  t.match(issues(node('http.request', '      url: ftp://x\n')), [{ field: 'nodes.start.params.url', reason: /http/ }])
  t.match(issues(node('http.request', '      url: https://x\n      method: FETCH\n')), [{ field: 'nodes.start.params.method' }])
  t.match(issues(node('http.request', '      url: https://x\n      timeout: forever\n')), [{ field: 'nodes.start.params.timeout' }])
  t.match(issues(node('http.request', '      url: https://x\n      verb: GET\n')), [{ field: 'nodes.start.params.verb' }])
  t.equal(spec(node('http.request', '      url: https://x\n')).nodes.start?.params.method, 'GET', 'defaults are applied')
  t.equal(spec(node('http.request', '      url: "${input.base}/items"\n')).nodes.start?.type, 'http.request', 'URLs built by expressions are checked at run time')

  t.equal(spec(node('webhook', '      url: https://hook\n')).nodes.start?.params.method, 'POST')
  t.match(issues(node('webhook', '      url: https://hook\n      secret: hunter2\n')), [{ field: 'nodes.start.params.secret', reason: /stored secret/ }])
  t.ok(spec(node('webhook', '      url: https://hook\n      secret: "${secrets.HOOK}"\n')))

  t.match(issues(node('evercycle', '      operation: nope\n')), [{ field: 'nodes.start.params.operation' }])
  t.ok(spec(node('evercycle', '      operation: get-all\n      query: { id: "${input.id}" }\n')))

  t.match(issues(node('transform', '      expression: "a.b +"\n')), [{ field: 'nodes.start.params.expression', reason: /Invalid expression/ }])
  t.ok(spec(node('transform', '      expression: "{ \\"total\\": $sum(input.items.price) }"\n')))
  t.match(issues(node('condition', '      expression: input.ok\n')), [{ field: 'nodes.start.params', reason: /needs `next`/ }])
  t.ok(spec(node('condition', '      expression: \'input.ok ? "yes" : "no"\'\n', '    next: { "yes": start, "no": start }\n')))

  t.equal(spec(node('delay', '      duration: 5s\n')).nodes.start?.params.duration, '5s')
  t.ok(spec(node('delay', '      duration: "${input.wait}"\n')))
  t.match(issues(node('delay', '      duration: 8d\n')), [{ field: 'nodes.start.params.duration' }])
  t.match(issues(node('delay', '      {}\n')), [{ field: 'nodes.start.params.duration' }])
})

t.test('retry and timeout are normalised for the engine', async (t) => {
  const s = spec(doc('  start:\n    type: delay\n    params: { duration: 1 }\n    retry: { max_attempts: 3 }\n    timeout: 30s\n'))
  t.same(s.nodes.start?.retry, { max_attempts: 3, backoff_ms: 1000 })
  t.equal(s.nodes.start?.timeout_ms, 30_000)
  t.match(issues(doc('  start:\n    type: delay\n    params: { duration: 1 }\n    retry: { max_attempts: 0 }\n')), [{ field: 'nodes.start.retry.max_attempts' }])
  t.match(issues(doc('  start:\n    type: delay\n    params: { duration: 1 }\n    timeout: 9d\n')), [{ field: 'nodes.start.timeout' }])
})

t.test('${...} templates: parsed now, anywhere in params, with their value kept when whole', async (t) => {
  const whole = parseTemplate('${nodes.fetch.body}')
  t.equal(whole.whole, true)
  const mixed = parseTemplate('Bearer ${secrets.API_KEY} for ${input.user.name}!')
  t.equal(mixed.whole, false)
  t.same(mixed.parts.map((p) => (p.kind === 'text' ? p.text : `{${p.source}}`)), ['Bearer ', '{secrets.API_KEY}', ' for ', '{input.user.name}', '!'])
  t.same(parseTemplate('${ {"a": "}"} }').parts.length, 1, 'braces inside strings and objects do not end the expression')
  t.same(parseTemplate('cost: $${price}').parts, [{ kind: 'text', text: 'cost: ${price}' }], '$${ is a literal ${')
  t.throws(() => parseTemplate('x ${input.a'), ExpressionError)
  t.throws(() => parseTemplate('${}'), /empty/)
  t.throws(() => parseTemplate('${input.}'), /Invalid expression/)

  const scope = { input: { n: 2, user: { name: 'Ada' } }, nodes: { fetch: { body: { items: [1, 2] } } }, secrets: { API_KEY: 'k' } }
  t.same(await renderTemplate(whole, scope), { items: [1, 2] })
  t.equal(await renderTemplate(mixed, scope), 'Bearer k for Ada!')
  t.equal(await renderTemplate(parseTemplate('n=${input.n * 2}'), scope), 'n=4')

  const nested = doc('  start:\n    type: http.request\n    params:\n      url: https://x\n      headers:\n        authorization: "Bearer ${secrets.}"\n      body:\n        items: ["${input.a}", "${input.b +}"]\n')
  t.same(issues(nested).map((i) => i.field), ['nodes.start.params.headers.authorization', 'nodes.start.params.body.items.1'])
})

t.test('durations', async (t) => {
  t.equal(parseDuration(1500), 1500)
  t.equal(parseDuration('1500'), 1500)
  t.equal(parseDuration('500ms'), 500)
  t.equal(parseDuration('5s'), 5000)
  t.equal(parseDuration('2m'), 120_000)
  t.equal(parseDuration('1.5h'), 5_400_000)
  t.equal(parseDuration('7d'), 604_800_000)
  t.equal(parseDuration('8d'), undefined)
  t.equal(parseDuration('soon'), undefined)
  t.equal(parseDuration(-1), undefined)
})
