import createError from '@fastify/error'
import { errorCodes } from 'fastify'
import fp from 'fastify-plugin'
import secureJson from 'secure-json-parse'

/** Well-formed JSON with a key that could poison prototypes: invalid input, not malformed JSON. */
export const FORBIDDEN_JSON_KEY = createError(
  'ERR_FORBIDDEN_JSON_KEY',
  'Request body contains a forbidden key (__proto__ or constructor.prototype)',
  400
)

/** secure-json-parse's own refusals, as opposed to the SyntaxError of text that is not JSON at all. */
const FORBIDDEN = /^Object contains forbidden (prototype|constructor) property$/
const OPTIONS = { protoAction: 'error', constructorAction: 'error' } as const

/**
 * Fastify's JSON body parser, except that a prototype-poisoning key is told apart from malformed JSON (Fastify
 * reports both as FST_ERR_CTP_INVALID_JSON_BODY). The same parser underneath (secure-json-parse), the same
 * limits.
 */
export default fp(
  async (app) => {
    app.removeContentTypeParser('application/json')
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      const text = body as string
      if (text.length === 0) return done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), undefined)
      let parsed: unknown
      try {
        parsed = secureJson.parse(text, null, OPTIONS)
      } catch (err) {
        return done(FORBIDDEN.test((err as Error).message) ? new FORBIDDEN_JSON_KEY() : new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined)
      }
      done(null, parsed)
    })
  },
  { name: 'json-body' }
)
