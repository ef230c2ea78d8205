/** Pieces of the banner's shell lines. */

export const auth = `-H "authorization: Bearer $TOKEN"`
export const jsonBody = `-H 'content-type: application/json'`
/** Node reading a JSON reply from stdin, for `node -pe`. */
export const read = `JSON.parse(require("fs").readFileSync(0, "utf8"))`
export const field = (name: string): string => `node -pe '${read}.${name}'`
