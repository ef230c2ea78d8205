/** The slice of pino's logger that core code uses; Fastify's logger satisfies it, so src/ needs no Fastify. */
export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}
