/** Where an episode's two lines go (a pino logger fits). */
export interface EpisodeLog {
  warn(obj: object, msg: string): void
}

/**
 * Load shedding, logged once per episode: one line when the first request is refused, one with the count when
 * it ends. Under pressure a replica may refuse thousands of requests a second; a line (let alone a stack trace)
 * for each would add work exactly when there is none to spare, and drown what the operator needs: that it
 * started, why, and how much it refused.
 */
export class SheddingEpisodes {
  private refused = 0
  private readonly reasons = new Set<string>()

  constructor(private readonly log: EpisodeLog) {}

  /** Whether an episode is under way (a request was refused and `end()` has not been called since). */
  get active(): boolean {
    return this.refused > 0
  }

  /** One request refused for `reason` (the limit it exceeded); the first of an episode logs that shedding started. */
  refuse(reason: string): void {
    if (this.refused === 0) this.log.warn({ reason }, `shedding load: ${reason} is over its limit`)
    this.refused++
    this.reasons.add(reason)
  }

  /** The pressure is gone (or the server is closing): logs the episode's count; nothing when none is under way. */
  end(): void {
    if (this.refused === 0) return
    const refused = this.refused
    this.log.warn({ refused, reasons: [...this.reasons] }, `stopped shedding: ${refused} request${refused === 1 ? '' : 's'} refused`)
    this.refused = 0
    this.reasons.clear()
  }
}
