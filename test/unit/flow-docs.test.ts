import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { KindGuard } from '@sinclair/typebox'
import t from 'tap'
import { loadEndpoints } from '../../src/evercycle/load-endpoints.js'
import { buildRegistry } from '../../src/evercycle/registry.js'
import { FLOW_DOCS_PATH, flowDocExamples, renderFlowDocs } from '../../src/flows/docs/render-flow-docs.js'
import { fieldRows } from '../../src/flows/docs/schema-markdown.js'
import { evercyclePolicy } from '../../src/flows/evercycle-policy.js'
import { nodeTypes } from '../../src/flows/nodes/index.js'
import { validateDefinition, type ValidationContext } from '../../src/flows/validate-definition.js'

const root = path.resolve(import.meta.dirname, '..', '..')

/** Where two texts first differ, as "line N: expected … / found …", so the failure says what is stale. */
function firstDifference(expected: string, found: string): string {
  const a = expected.split('\n')
  const b = found.split('\n')
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: generated ${JSON.stringify(a[i] ?? '(end)')}, file has ${JSON.stringify(b[i] ?? '(end)')}`
  }
  return 'no difference'
}

t.test('docs/flows.md is what the schemas generate', async (t) => {
  const written = await readFile(path.join(root, FLOW_DOCS_PATH), 'utf8')
  const generated = renderFlowDocs()
  t.equal(renderFlowDocs(), generated, 'the same schemas give the same text (no dates, stable order)')
  if (written === generated) t.pass('docs/flows.md is up to date')
  else t.fail(`docs/flows.md is out of date: run \`npm run docs\` and commit docs/flows.md (${firstDifference(generated, written)})`)
})

t.test('every example in the document passes the validator flows are saved with', async (t) => {
  // the context the flow-definitions plugin gives FlowService: the real registry, and the role policy with
  // its default (an ordinary user may call the GET operations), so an example works for any account
  const registry = buildRegistry(await loadEndpoints(), new Map())
  const policy = evercyclePolicy(undefined)
  const ctx: ValidationContext = {
    hasOperation: (name) => registry.get(name) !== undefined,
    mayCallOperation: (name) => {
      const op = registry.get(name)
      return op !== undefined && policy('user', op)
    }
  }
  const examples = flowDocExamples()
  t.ok(examples.length >= nodeTypes.size + 2, 'an example per node type, plus the flow-level ones')
  for (const example of examples) {
    const result = validateDefinition(example.yaml, ctx)
    t.ok(result.ok, `the ${example.name} example is a valid flow${result.ok ? '' : `: ${JSON.stringify(result.issues)}`}`)
  }
})

t.test('each node type documents its params, result and example', async (t) => {
  const doc = renderFlowDocs()
  for (const type of nodeTypes.values()) {
    t.match(type.description, /^[A-Z].*\.$/s, `${type.type}: the description is written as sentences`)
    const used = Object.values(type.example.flow.nodes).some((n) => n.type === type.type)
    t.ok(used, `${type.type}: its example uses it`)
    t.ok(type.example.summary.endsWith('.'), `${type.type}: the example's summary is a sentence`)
    for (const row of fieldRows(type.params)) {
      t.match(row.description, /^\S.*\.$/s, `${type.type}.params.${row.name}: described in sentences`)
    }
    const result = type.result
    const described = KindGuard.IsObject(result) ? fieldRows(result).every((r) => r.description !== '') : typeof result.description === 'string'
    t.ok(described, `${type.type}: its result is described`)
    t.ok(doc.includes(`### \`${type.type}\``), `${type.type}: has its section`)
  }
})
