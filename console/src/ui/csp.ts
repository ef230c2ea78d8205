/**
 * The nonce the server put in this page's CSP (`style-src 'nonce-…'`), for the styles CodeMirror injects
 * (pass it to `EditorView.cspNonce`). The server writes it into the page's `csp-nonce` meta tag.
 */
export function cspNonce(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? ''
}
