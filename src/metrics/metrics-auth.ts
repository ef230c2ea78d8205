import { ApiKeySet } from '../security/api-keys.js'
import { bearerToken } from '../http/bearer-token.js'

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
    const presented = bearerToken(authorization)
    return presented !== undefined && this.token.matches(presented)
  }
}

export const METRICS_CHALLENGE = 'Bearer realm="metrics"'
