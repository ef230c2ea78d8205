import { pipeline } from 'node:stream/promises'
import type { Envelope } from '../evercycle/envelope.js'
import { formatJsonText, write, type OutStream } from './output.js'

/**
 * The success envelope on stdout: pretty on a terminal, the exact bytes otherwise (a large answer streams
 * straight through without being held in memory).
 */
export async function printEnvelope(envelope: Envelope, stream: OutStream, pretty: boolean): Promise<void> {
  if (envelope.kind === 'buffered') {
    write(stream, formatJsonText(envelope.payload.toString('utf8'), pretty))
    return
  }
  if (!pretty) {
    await pipeline(envelope.stream, stream, { end: false })
    stream.write('\n')
    return
  }
  const chunks: Buffer[] = []
  for await (const chunk of envelope.stream) chunks.push(chunk as Buffer)
  write(stream, formatJsonText(Buffer.concat(chunks).toString('utf8'), true))
}
