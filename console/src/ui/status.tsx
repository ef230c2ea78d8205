/** A status as a word, with its colour as a second cue (never colour alone). */
export function StatusBadge({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{status}</span>
}
