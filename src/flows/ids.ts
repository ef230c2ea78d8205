/** Node and trigger ids: what expressions write after `nodes.`; `-` is allowed (then written nodes.`my-node`). */
export const NODE_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/
