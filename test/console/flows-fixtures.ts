import type { Page } from 'playwright-core'

/** A flow that needs no network: transform → condition → one of two transforms. */
export const GOOD_FLOW = `metadata:
  name: Console flow
  description: Made in the browser
nodes:
  start:
    type: transform
    params:
      expression: '{"doubled": input.n * 2}'
    next:
      default: check
  check:
    type: condition
    params:
      expression: nodes.start.doubled > 10
    next:
      "true": big
      "false": small
  big:
    type: transform
    params:
      expression: '"big"'
  small:
    type: transform
    params:
      expression: '"small"'
`

/** The same flow with an unknown node type on line 12. */
export const BAD_LINE = 12
export const BAD_FLOW = GOOD_FLOW.replace('type: condition', 'type: no_such_type')

/**
 * Replaces a CodeMirror editor's whole text as a paste would (select all, then a paste event carrying the text):
 * CodeMirror inserts pasted text itself, with no auto-indent on the way. Chromium's own insertText into the
 * contenteditable was tried first: it applies inline styles the CSP refuses, and now and then hung the renderer.
 */
export async function pasteInto(page: Page, editorName: string, text: string): Promise<void> {
  const editor = page.getByRole('textbox', { name: editorName, exact: true })
  await editor.click()
  await page.keyboard.press('ControlOrMeta+a')
  await editor.evaluate((el, pasted) => {
    // Runs in the page; the test project's types have no DOM, hence the shapes spelled out.
    const web = globalThis as unknown as {
      DataTransfer: new () => { setData(type: string, value: string): void }
      ClipboardEvent: new (type: string, init: object) => Event
    }
    const data = new web.DataTransfer()
    data.setData('text/plain', pasted)
    el.dispatchEvent(new web.ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }))
  }, text)
}
