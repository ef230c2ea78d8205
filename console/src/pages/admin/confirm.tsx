import { useEffect, useRef } from 'preact/hooks'

/**
 * A destructive action asked once more in place, rather than in a modal: the question and its two buttons
 * replace the row's own action buttons, and focus moves to "Cancel" so a stray Enter does not confirm.
 */
export function InlineConfirm({
  question,
  confirmLabel,
  busy,
  onConfirm,
  onCancel
}: {
  question: string
  confirmLabel: string
  busy: boolean
  onConfirm: () => void
  onCancel: () => void
}) {
  const cancel = useRef<HTMLButtonElement>(null)
  useEffect(() => cancel.current?.focus(), [])
  return (
    <div class="admin-confirm" role="group" aria-label={question}>
      <span>{question}</span>
      <button type="button" class="danger" disabled={busy} onClick={onConfirm}>
        {confirmLabel}
      </button>
      <button type="button" ref={cancel} disabled={busy} onClick={onCancel}>
        Cancel
      </button>
    </div>
  )
}
