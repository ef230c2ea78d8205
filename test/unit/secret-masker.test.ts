import t from 'tap'
import { SECRET_VALUE_MIN_LENGTH, SecretMasker } from '../../src/flows/runtime/secret-masker.js'

const SECRET = 'Pa ss|word^42{x}'

t.test('a value nested deeper than any recursion limit is masked whole, keys included', async (t) => {
  const masker = SecretMasker.of([SECRET])
  // walked by hand: JSON.stringify itself recurses, and overflows long before 100,000 levels
  const innermost = (value: unknown, depth: number): unknown => {
    let node = value
    for (let i = depth - 1; i >= 0; i--) node = i % 2 === 0 ? (node as { a: unknown }).a : (node as unknown[])[0]
    return node
  }
  for (const depth of [101, 102, 100_000]) {
    let input: unknown = { [`key ${SECRET}`]: [SECRET, 1, null, true] }
    for (let i = 0; i < depth; i++) input = i % 2 === 0 ? { a: input } : [input]
    const out = masker.value(input)
    t.same(innermost(out, depth), { 'key ***': ['***', 1, null, true] }, `the innermost value at depth ${depth}`)
    t.same(innermost(input, depth), { [`key ${SECRET}`]: [SECRET, 1, null, true] }, 'the input is left as it was')
  }
})

t.test('shared and cyclic containers are copied once, and a __proto__ key stays a key', async (t) => {
  const masker = SecretMasker.of([SECRET])
  const shared = { s: SECRET }
  const out = masker.value({ one: shared, two: shared }) as { one: unknown; two: unknown }
  t.same(out, { one: { s: '***' }, two: { s: '***' } })
  const cycle: Record<string, unknown> = { s: SECRET }
  cycle.self = cycle
  const copied = masker.value(cycle) as Record<string, unknown>
  t.equal(copied.s, '***')
  t.equal(copied.self, copied, 'the cycle is kept, not walked forever')
  const poisoned = masker.value(JSON.parse(`{"__proto__": {"s": "${SECRET}"}}`) as object) as Record<string, unknown>
  t.equal(Object.getPrototypeOf(poisoned), Object.prototype)
  t.same(Object.getOwnPropertyDescriptor(poisoned, '__proto__')?.value, { s: '***' })
})

t.test('a URL is masked in the form the URL parser writes it', async (t) => {
  const masker = SecretMasker.of([SECRET])
  for (const href of [
    new URL(`http://host/path?key=${SECRET}`).href,
    new URL(`http://host/${SECRET}/tail`).href,
    new URL(`http://host/p#${SECRET}`).href,
    Object.assign(new URL('http://host/'), { password: SECRET }).href,
    Object.assign(new URL('http://host/'), { username: SECRET }).href,
    Object.assign(new URL('http://host/'), { search: new URLSearchParams({ key: SECRET }).toString() }).href
  ]) {
    const masked = masker.text(href)
    t.notOk(masked.includes(SECRET), href)
    t.match(masked, /\*\*\*/, `${href} shows the mask`)
  }
  t.equal(masker.text(new URL(`http://host/path?key=${SECRET}`).href), 'http://host/path?key=***')
  // a value holding `#` spills from the query into the fragment: the form spans both
  const hashed = 'abc#def ghi'
  t.equal(SecretMasker.of([hashed]).text(new URL(`http://host/?k=${hashed}`).href), 'http://host/?k=***')
})

t.test(`values shorter than ${SECRET_VALUE_MIN_LENGTH} characters are not masked; contains() sees every form`, async (t) => {
  t.equal(SECRET_VALUE_MIN_LENGTH, 8)
  const masker = SecretMasker.of(['seven77', 'eight888'])
  t.equal(masker.text('seven77 eight888'), 'seven77 ***')
  t.ok(masker.contains('Bearer eight888'))
  t.notOk(masker.contains('seven77'))
  const odd = SecretMasker.of([SECRET])
  for (const form of [encodeURIComponent(SECRET), new URLSearchParams({ v: SECRET }).toString().slice(2), JSON.stringify(SECRET).slice(1, -1)]) {
    t.ok(odd.contains(`x ${form} y`), form)
  }
  t.notOk(odd.contains('nothing secret here'))
})
