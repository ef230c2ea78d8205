import helmet from '@fastify/helmet'
import fp from 'fastify-plugin'

/**
 * Security headers for a JSON API that browser UIs on other origins call: no framing, no sniffing, a strict
 * CSP (the docs UI needs its own scripts and inline styles only), and a cross-origin resource policy so CORS,
 * not CORP, decides who reads responses.
 */
export default fp(
  async (app) => {
    await app.register(helmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          frameAncestors: ["'none'"],
          formAction: ["'self'"]
        }
      },
      crossOriginResourcePolicy: { policy: 'cross-origin' },
      crossOriginOpenerPolicy: { policy: 'same-origin' },
      crossOriginEmbedderPolicy: false,
      hsts: { maxAge: 15552000, includeSubDomains: true }
    })
  },
  { name: 'security-headers' }
)
