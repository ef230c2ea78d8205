import { ApiKeySet } from '../security/api-keys.js'

/**
 * Checks `Authorization: Bearer <METRICS_TOKEN>` in constant time (fixed-length digests, as API keys are), so
 * the comparison's timing tells nothing about the token.
 */
export class MetricsToken {
  private readonly token: ApiKeySet

  constructor(token: string) {
    this.token = new ApiKeySet([token])
  }

  accepts(authorization: string | string[] | undefined): boolean {
    if (typeof authorization !== 'string') return false
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1]
    return presented !== undefined && this.token.matches(presented)
  }
}

export const METRICS_CHALLENGE = 'Bearer realm="metrics"'
