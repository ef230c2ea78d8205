/**
 * Log redaction by path, always on: credentials and tokens may sit in headers, bodies and error details.
 * Fastify's default request serializer logs no headers or bodies; these paths cover what our own code and
 * plugins might log.
 */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["access-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["access-token"]',
  'headers["x-api-key"]',
  'password',
  '*.password',
  'token',
  '*.token',
  'accessToken',
  'idToken',
  'refreshToken',
  '*.accessToken',
  '*.idToken',
  '*.refreshToken',
  'AccessToken',
  'IdToken',
  'RefreshToken',
  '*.AccessToken',
  '*.IdToken',
  '*.RefreshToken',
  'secret',
  '*.secret',
  'value',
  '*.value'
]
