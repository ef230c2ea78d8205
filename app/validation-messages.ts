import type { TString } from '@sinclair/typebox'
import type { FastifySchemaValidationError } from 'fastify'
import { PathParamValueSchema } from '../src/evercycle/registry.js'

/** One field's problem in words: `predicate` follows the field's name ("is required", "must be a number"). */
export interface FieldProblem {
  /** Where the field sits in its part of the request (`['items', '0', 'name']`); empty: the part itself. */
  path: string[]
  predicate: string
  /** The property a `required` rule found missing (the gateway's details have always named it). */
  missing?: string
}

/**
 * Patterns our schemas use, said in words: a client is told what a valid value looks like, never a regex.
 * A pattern not listed here is "not in the accepted format".
 */
const PATTERN_WORDS = new Map<string, string>([
  [(PathParamValueSchema.anyOf[0] as TString).pattern ?? '', "must be one path segment: not '.' or '..', without control characters"]
])

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null'
}

function typeNames(error: FastifySchemaValidationError): string[] {
  return String(error.params.type ?? '')
    .split(',')
    .filter((t) => t !== '')
    .map((t) => TYPE_WORDS[t] ?? t)
}

const count = (n: unknown, one: string, many: string): string => `${String(n)} ${Number(n) === 1 ? one : many}`

/** One ajv error's rule, as the predicate of a sentence about the field. */
function describe(error: FastifySchemaValidationError): string {
  const p = error.params
  switch (error.keyword) {
    case 'type':
      return `must be ${typeNames(error).join(' or ')}`
    case 'pattern':
      return PATTERN_WORDS.get(String(p.pattern)) ?? 'is not in the accepted format'
    case 'format':
      return `must be a valid ${String(p.format).replace(/-/g, ' ')}`
    case 'minLength':
      return Number(p.limit) === 1 ? 'must not be empty' : `must be at least ${count(p.limit, 'character', 'characters')} long`
    case 'maxLength':
      return `must be at most ${count(p.limit, 'character', 'characters')} long`
    case 'minimum':
      return `must be at least ${String(p.limit)}`
    case 'maximum':
      return `must be at most ${String(p.limit)}`
    case 'exclusiveMinimum':
      return `must be more than ${String(p.limit)}`
    case 'exclusiveMaximum':
      return `must be less than ${String(p.limit)}`
    case 'multipleOf':
      return `must be a multiple of ${String(p.multipleOf)}`
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`
    case 'minItems':
      return `must have at least ${count(p.limit, 'item', 'items')}`
    case 'maxItems':
      return `must have at most ${count(p.limit, 'item', 'items')}`
    case 'uniqueItems':
      return 'must not list the same item twice'
    case 'minProperties':
      return `must have at least ${count(p.limit, 'field', 'fields')}`
    case 'maxProperties':
      return `must have at most ${count(p.limit, 'field', 'fields')}`
    default:
      return 'is not valid'
  }
}

const isUnion = (e: FastifySchemaValidationError): boolean => e.keyword === 'anyOf' || e.keyword === 'oneOf'

/**
 * A union (a path parameter is text or a whole number) fails with one error per branch and then its own
 * "must match a schema in anyOf". Said as one predicate: when a branch's type matched (its error is about the
 * value, not the type) that branch's rule is the one that matters; otherwise the types it takes.
 */
function describeUnion(union: FastifySchemaValidationError, errors: readonly FastifySchemaValidationError[]): string {
  const branches = errors.filter((e) => e !== union && e.schemaPath.startsWith(`${union.schemaPath}/`) && !isUnion(e))
  const content = branches.filter((e) => e.keyword !== 'type')
  if (content.length > 0) return [...new Set(content.map(describe))].join(' or ')
  const types = [...new Set(branches.flatMap(typeNames))]
  return types.length > 0 ? `must be ${types.join(' or ')}` : 'is not valid'
}

const pathOf = (instancePath: string): string[] => instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))

/** Fastify's validation errors as one problem per field, in the order the fields first failed. */
export function fieldProblems(errors: readonly FastifySchemaValidationError[]): FieldProblem[] {
  const unions = errors.filter(isUnion)
  const byField = new Map<string, FieldProblem & { predicates: string[] }>()
  const add = (path: string[], predicate: string, missing?: string): void => {
    const key = path.join('\u0000')
    const found = byField.get(key)
    if (found === undefined) byField.set(key, { path, predicate, predicates: [predicate], ...(missing === undefined ? {} : { missing }) })
    else if (!found.predicates.includes(predicate)) found.predicates.push(predicate)
  }
  for (const e of errors) {
    // a branch of a union is explained by the union
    if (unions.some((u) => u !== e && e.schemaPath.startsWith(`${u.schemaPath}/`))) continue
    const path = pathOf(e.instancePath)
    if (isUnion(e)) add(path, describeUnion(e, errors))
    else if (e.keyword === 'required') add([...path, String(e.params.missingProperty)], 'is required', String(e.params.missingProperty))
    else if (e.keyword === 'additionalProperties') add([...path, String(e.params.additionalProperty)], 'is not a field this request takes')
    else add(path, describe(e))
  }
  return [...byField.values()].map(({ predicates, ...problem }) => ({ ...problem, predicate: predicates.join(' and ') }))
}
