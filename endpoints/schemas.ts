import { Type } from '@sinclair/typebox'

/** Fields an Evercycle asset accepts. Extra fields pass through: Evercycle is the authority on its schema. */
export const AssetFieldsSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 500 })),
    status: Type.Optional(Type.String({ maxLength: 100 })),
    serialNumber: Type.Optional(Type.String({ maxLength: 200 })),
    model: Type.Optional(Type.String({ maxLength: 200 })),
    grade: Type.Optional(Type.String({ maxLength: 50 })),
    notes: Type.Optional(Type.String({ maxLength: 10000 }))
  },
  { additionalProperties: true }
)

/** Query values Evercycle list endpoints accept, passed through as given. */
export const PassThroughQuerySchema = Type.Object(
  {},
  { additionalProperties: Type.Union([Type.String({ maxLength: 2000 }), Type.Array(Type.String({ maxLength: 2000 }), { maxItems: 50 })]) }
)
