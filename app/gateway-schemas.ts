import { Type } from '@sinclair/typebox'

/** The gateway's error shape: the old `{status, message}` plus `error: {code, message, details}`. */
export const GatewayErrorSchema = Type.Object(
  {
    status: Type.Literal('error'),
    message: Type.String(),
    error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Unknown() })
  },
  { description: 'Error reply' }
)

export const SuccessEnvelopeSchema = Type.Object(
  { status: Type.Literal('success'), data: Type.Unknown({ description: 'Evercycle JSON, passed through' }) },
  { description: 'Evercycle answer wrapped in the success envelope' }
)
