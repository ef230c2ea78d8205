import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { isDomainError } from '../src/errors.js'
import { flowRunnerErrorBody, gatewayErrorBody, type ErrorDetail } from '../src/http/error-body.js'
import { fieldProblems } from './validation-messages.js'

interface Mapped {
  statusCode: number
  body: ErrorDetail
}

/** Fastify's own errors (parsing, limits, validation) mapped onto our codes. */
function frameworkError(err: FastifyError): Mapped | undefined {
  if (err.validation !== undefined) {
    // one plain sentence per field ("id is required"), never a schema's regex or ajv's "anyOf"
    const location = err.validationContext ?? 'request'
    const details = fieldProblems(err.validation).map((p) => ({
      field: [location, ...p.path].join('.'),
      message: `${p.path.length > 0 ? p.path.join('.') : location} ${p.predicate}`,
      ...(p.missing === undefined ? {} : { missing: p.missing })
    }))
    const message = details.length > 0 ? details.map((d) => d.message).join('; ') : 'Invalid request'
    return { statusCode: 400, body: { code: 'validation_error', message, details } }
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { statusCode: 413, body: { code: 'payload_too_large', message: 'Request body is too large', details: null } }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { statusCode: 415, body: { code: 'unsupported_media_type', message: 'Content-Type must be application/json', details: null } }
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { statusCode: 400, body: { code: 'invalid_json', message: 'Request body is empty', details: null } }
    case 'ERR_FORBIDDEN_JSON_KEY':
      // well-formed JSON whose keys could poison prototypes: invalid input (plugins/json-body.ts)
      return { statusCode: 400, body: { code: 'validation_error', message: err.message, details: null } }
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { statusCode: 400, body: { code: 'invalid_json', message: 'Request body is not valid JSON', details: null } }
  }
  if (err instanceof SyntaxError || err.statusCode === 400) {
    return { statusCode: 400, body: { code: 'invalid_json', message: 'Request body is not valid JSON', details: null } }
  }
  if (err.statusCode === 429) {
    return { statusCode: 429, body: { code: 'rate_limited', message: err.message, details: null } }
  }
  return undefined
}

/**
 * FlowRunner's reference: a malformed request is 400 `invalid_request` with `details: {field, reason}` (every
 * problem also listed in `details.errors`); 422 `validation_error` is kept for flow definitions.
 */
function flowRunnerFrameworkError(err: FastifyError): Mapped | undefined {
  if (err.validation !== undefined) {
    const location = err.validationContext ?? 'request'
    const errors = fieldProblems(err.validation).map((p) => ({ field: p.path.length > 0 ? p.path.join('.') : location, reason: p.predicate }))
    const first = errors[0] ?? { field: location, reason: 'is invalid' }
    return {
      statusCode: 400,
      body: { code: 'invalid_request', message: `The request was invalid: ${first.field} ${first.reason}`, details: { ...first, location, errors } }
    }
  }
  const mapped = frameworkError(err)
  if (err.code === 'ERR_FORBIDDEN_JSON_KEY') {
    const details = { field: 'body', reason: 'contains a forbidden key', location: 'body', errors: [{ field: 'body', reason: 'contains a forbidden key' }] }
    return { statusCode: 400, body: { code: 'invalid_request', message: err.message, details } }
  }
  if (mapped?.body.code === 'invalid_json') return { ...mapped, body: { ...mapped.body, code: 'invalid_request' } }
  return mapped
}

export interface ProductErrors {
  /** For `setErrorHandler` in the product's context. */
  errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply
  /** For `setNotFoundHandler` in each prefix the product owns (Fastify picks a 404 handler by prefix). */
  notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply
}

const BUDGET_REFUSALS: ReadonlySet<string> = new Set(['upstream_busy', 'upstream_circuit_open'])

/**
 * A product's error and not-found handlers, answering in its shape. Domain errors keep their code, status and
 * safe details; Fastify's errors are mapped; anything else is a 500 whose internals stay in the log.
 */
function productErrors(shape: (error: ErrorDetail) => object, framework: (err: FastifyError) => Mapped | undefined): ProductErrors {
  const send = (reply: FastifyReply, statusCode: number, error: ErrorDetail): FastifyReply =>
    reply.code(statusCode).type('application/json; charset=utf-8').send(shape(error))
  return {
    errorHandler(err, request, reply) {
      if (isDomainError(err)) {
        // the budget's refusals come by the hundred while Evercycle is failing or busy; the state change behind
        // them is logged once, at warn (plugins/upstream-budget.ts)
        // load shedding's refusals are logged once per episode, with their count (plugins/load-shedding.ts)
        if (err.statusCode >= 500 && err.code !== 'overloaded') request.log[BUDGET_REFUSALS.has(err.code) ? 'debug' : 'warn']({ err }, err.message)
        for (const [name, value] of Object.entries(err.headers ?? {})) reply.header(name, value)
        return send(reply, err.statusCode, { code: err.code, message: err.message, details: err.details ?? null })
      }
      const mapped = framework(err)
      if (mapped !== undefined) return send(reply, mapped.statusCode, mapped.body)
      request.log.error({ err }, 'unhandled error')
      return send(reply, 500, { code: 'internal_error', message: 'Internal server error', details: null })
    },
    notFoundHandler(request, reply) {
      return send(reply, 404, { code: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]}`, details: null })
    }
  }
}

/** The gateway's `{status, message, error}`: its routes, and whatever lies outside both products (the docs UI). */
export const gatewayErrors = productErrors(gatewayErrorBody, frameworkError)

/** FlowRunner's `{error}`, with its reference's `invalid_request` for malformed requests. */
export const flowRunnerErrors = productErrors(flowRunnerErrorBody, flowRunnerFrameworkError)
