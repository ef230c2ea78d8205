import { usageError } from './cli-error.js'

const STDIN_LIMIT = 16 * 1024 * 1024

/** All of stdin as text (a body, a password), refusing a terminal: that would wait forever for EOF. */
export async function readStdin(stream: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (stream.isTTY === true) throw usageError('Expected input on stdin (a pipe or a file), not a terminal')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    size += buf.length
    if (size > STDIN_LIMIT) throw usageError(`stdin is larger than ${STDIN_LIMIT} bytes`)
    chunks.push(buf)
  }
  return Buffer.concat(chunks).toString('utf8')
}
