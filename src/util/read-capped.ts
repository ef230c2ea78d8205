/** What `readCapped` got: the chunks read, their size, and whether that was the whole body. */
export interface CappedRead {
  chunks: Buffer[]
  size: number
  done: boolean
}

/**
 * Reads up to `limit` bytes through the iterator (one chunk past it, at most). It must be one iterator kept for
 * the rest of the body: leaving a `for await` loop early would destroy the stream. `mapError` turns a failed
 * read into the caller's error.
 */
export async function readCapped(it: AsyncIterator<Buffer>, limit: number, mapError?: (err: unknown) => Error): Promise<CappedRead> {
  const chunks: Buffer[] = []
  let size = 0
  for (;;) {
    let next: IteratorResult<Buffer>
    try {
      next = await it.next()
    } catch (err) {
      throw mapError === undefined ? err : mapError(err)
    }
    if (next.done === true) return { chunks, size, done: true }
    chunks.push(next.value)
    size += next.value.length
    if (size > limit) return { chunks, size, done: false }
  }
}

/** The whole body when it is at most `maxBytes`; otherwise the body is destroyed and `tooLarge()` thrown. */
export async function readWhole(body: AsyncIterable<Buffer> & { destroy(): unknown }, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const read = await readCapped(body[Symbol.asyncIterator](), maxBytes)
  if (!read.done) {
    body.destroy()
    throw tooLarge()
  }
  return Buffer.concat(read.chunks, read.size)
}
