/**
 * The last `capacity` items pushed, oldest overwritten first. A fixed array and a cursor: pushing costs the
 * same whether the buffer is full or not, and memory never grows past the capacity.
 */
export class RingBuffer<T> {
  private readonly slots: Array<T | undefined>
  private next = 0
  private count = 0

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be an integer >= 1')
    this.slots = new Array<T | undefined>(capacity)
  }

  get size(): number {
    return this.count
  }

  push(item: T): void {
    this.slots[this.next] = item
    this.next = (this.next + 1) % this.capacity
    if (this.count < this.capacity) this.count++
  }

  /** The items held, newest first (what a status page lists). */
  newestFirst(): T[] {
    const out: T[] = []
    for (let i = 1; i <= this.count; i++) out.push(this.slots[(this.next - i + this.capacity) % this.capacity] as T)
    return out
  }

  /** The item pushed last, if any. */
  newest(): T | undefined {
    return this.count === 0 ? undefined : this.slots[(this.next - 1 + this.capacity) % this.capacity]
  }

  clear(): void {
    this.slots.fill(undefined)
    this.next = 0
    this.count = 0
  }
}
