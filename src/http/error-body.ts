/** What every error reply says, whichever product answers. */
export interface ErrorDetail {
  code: string
  message: string
  details: unknown
}

/** The gateway's shape: the old server's `{status, message}`, plus `error`. The CLI prints it too. */
export interface GatewayErrorBody {
  status: 'error'
  message: string
  error: ErrorDetail
}

/** FlowRunner's shape, as its API reference gives it. */
export interface FlowRunnerErrorBody {
  error: ErrorDetail
}

export function gatewayErrorBody(error: ErrorDetail): GatewayErrorBody {
  return { status: 'error', message: error.message, error }
}

export function flowRunnerErrorBody(error: ErrorDetail): FlowRunnerErrorBody {
  return { error }
}
