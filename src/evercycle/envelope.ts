import { Readable } from 'node:stream'
import { domainError } from '../errors.js'
import { toDomainError, type UpstreamResponse } from './client.js'
import { isJson } from './is-json.js'
import { JsonSyntaxChecker } from './json-checker.js'
import { readCapped } from '../util/read-capped.js'

const PREFIX = Buffer.from('{"status":"success","data":')
const SUFFIX = Buffer.from('}')
const NULL_DATA = Buffer.from('{"status":"success","data":null}')
/** Bodies up to this size are buffered and checked whole (`isJson`); larger ones stream through the checker. */
export const BUFFER_LIMIT = 1024 * 1024
/** An upstream error body is quoted in `details` up to this size. */
const ERROR_BODY_LIMIT = 64 * 1024

export type Envelope =
  | { kind: 'buffered'; statusCode: number; payload: Buffer }
  | { kind: 'stream'; statusCode: number; stream: Readable }

/** Content-Type values seen and whether they are JSON: an upstream sends a handful, so each is parsed once. */
const jsonTypes = new Map<string, boolean>()
const JSON_TYPES_CAP = 64

function isJsonType(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType
  if (value === undefined) return false
  let json = jsonTypes.get(value)
  if (json === undefined) {
    const type = value.split(';')[0]?.trim().toLowerCase() ?? ''
    json = type === 'application/json' || type.endsWith('+json')
    // bounded: a misbehaving upstream inventing values must not grow it
    if (jsonTypes.size < JSON_TYPES_CAP) jsonTypes.set(value, json)
  }
  return json
}

type Chunks = AsyncIterator<Buffer>

function chunksOf(res: UpstreamResponse): Chunks {
  return (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
}

/** Without a leading UTF-8 byte order mark (JSON.parse and undici's text() drop it too). */
function stripBom(bytes: Buffer): Buffer {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes
}

/** A Buffer view of the same memory (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function isBlank(bytes: Buffer): boolean {
  for (const c of bytes) if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false
  return true
}

/** The upstream's Content-Length, or Infinity when it sent none (or an unusable one). */
function declaredLength(res: UpstreamResponse): number {
  const value = res.headers['content-length']
  if (typeof value !== 'string' || value === '') return Infinity
  const length = Number(value)
  return Number.isSafeInteger(length) && length >= 0 ? length : Infinity
}

/**
 * A whole (small) body as the envelope's payload. JSON goes out as the upstream's own bytes between the
 * envelope's, checked by `isJson` without being decoded or parsed.
 */
function buffered(statusCode: number, json: boolean, body: Buffer): Envelope {
  const bytes = stripBom(body)
  if (isBlank(bytes)) return { kind: 'buffered', statusCode, payload: NULL_DATA }
  if (!isJson(bytes)) {
    if (json) throw domainError('upstream_invalid_response', 'Evercycle answered with malformed JSON')
    return { kind: 'buffered', statusCode, payload: Buffer.from(`{"status":"success","data":${JSON.stringify(bytes.toString('utf8'))}}`) }
  }
  // valid JSON is JSON even under another (or no) Content-Type, as the old gateway's response.json() took it
  return { kind: 'buffered', statusCode, payload: Buffer.concat([PREFIX, bytes, SUFFIX], PREFIX.length + bytes.length + SUFFIX.length) }
}

/**
 * Wraps a 2xx upstream answer as `{"status":"success","data":<upstream JSON>}` without re-serializing it.
 * Small JSON bodies are checked whole (`isJson`); large ones stream through an incremental syntax check and,
 * should it fail mid-way, the response is aborted rather than completed as invalid JSON. A non-JSON body
 * becomes a JSON string unless it is valid JSON under the wrong label; an empty body becomes `null`; a body
 * labelled JSON that does not parse is a 502.
 */
export async function successEnvelope(res: UpstreamResponse): Promise<Envelope> {
  const statusCode = res.statusCode
  const json = isJsonType(res.headers['content-type'])
  // A declared length within the limit is read in one go: undici fails a body that overruns its
  // Content-Length, so the cap holds without counting chunks through an async iterator (a generator, a
  // promise per chunk and stream bookkeeping on every call).
  if (declaredLength(res) <= BUFFER_LIMIT) {
    let body: Uint8Array
    try {
      body = await res.body.bytes()
    } catch (err) {
      throw toDomainError(err)
    }
    return buffered(statusCode, json, asBuffer(body))
  }
  const it = chunksOf(res)
  const head = await readCapped(it, BUFFER_LIMIT, toDomainError)
  if (head.done) return buffered(statusCode, json, Buffer.concat(head.chunks, head.size))
  if (!json) {
    res.body.destroy()
    throw domainError('upstream_invalid_response', `Evercycle answered with a non-JSON body over ${BUFFER_LIMIT} bytes`)
  }
  const checker = new JsonSyntaxChecker()
  for (const chunk of head.chunks) {
    if (!checker.push(chunk)) {
      res.body.destroy()
      throw domainError('upstream_invalid_response', 'Evercycle answered with malformed JSON')
    }
  }
  async function* stream(): AsyncGenerator<Buffer> {
    yield PREFIX
    for (const chunk of head.chunks) yield chunk
    for (let next = await it.next(); next.done !== true; next = await it.next()) {
      if (!checker.push(next.value)) throw new Error('Evercycle response turned out to be malformed JSON')
      yield next.value
    }
    if (!checker.end()) throw new Error('Evercycle response ended before the JSON did')
    yield SUFFIX
  }
  return { kind: 'stream', statusCode, stream: Readable.from(stream(), { objectMode: false }) }
}

/** An upstream 4xx/5xx (or unexpected 1xx/3xx) as a domain error quoting the upstream body. */
export async function upstreamError(res: UpstreamResponse): Promise<Error> {
  const head = await readCapped(chunksOf(res), ERROR_BODY_LIMIT, toDomainError)
  if (!head.done) res.body.destroy()
  const text = Buffer.concat(head.chunks, head.size).toString('utf8').slice(0, ERROR_BODY_LIMIT)
  let body: unknown = text
  if (head.done && isJsonType(res.headers['content-type'])) {
    try {
      body = JSON.parse(text)
    } catch {
      // keep the text
    }
  }
  const statusCode = res.statusCode >= 400 && res.statusCode <= 599 ? res.statusCode : 502
  const headers: Record<string, string> = {}
  const retryAfter = res.headers['retry-after']
  if (typeof retryAfter === 'string' && (statusCode === 429 || statusCode === 503)) headers['retry-after'] = retryAfter
  return domainError('upstream_error', `Evercycle answered ${res.statusCode}`, {
    statusCode,
    details: { upstream_status: res.statusCode, body },
    headers
  })
}
