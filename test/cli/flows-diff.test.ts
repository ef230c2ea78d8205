import tap from 'tap'
import { unifiedDiff } from '../../src/cli/flows/line-diff.js'

tap.test('unifiedDiff: hunks with three lines of context, removals before additions', async (t) => {
  const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join('\n') + '\n'
  t.equal(unifiedDiff(before, before, 'old', 'new'), '', 'no diff for the same text')

  const changed = before.replace('e\n', 'E\n')
  t.equal(unifiedDiff(before, changed, 'old', 'new'), ['--- old', '+++ new', '@@ -2,7 +2,7 @@', ' b', ' c', ' d', '-e', '+E', ' f', ' g', ' h', ''].join('\n'))

  const added = `${before}k\n`
  t.equal(unifiedDiff(before, added, 'old', 'new'), ['--- old', '+++ new', '@@ -8,3 +8,4 @@', ' h', ' i', ' j', '+k', ''].join('\n'))

  const removedFirst = before.replace('a\n', '')
  t.equal(unifiedDiff(before, removedFirst, 'old', 'new'), ['--- old', '+++ new', '@@ -1,4 +1,3 @@', '-a', ' b', ' c', ' d', ''].join('\n'))

  // two changes far apart are two hunks
  const two = before.replace('a\n', 'A\n').replace('j\n', 'J\n')
  t.match(unifiedDiff(before, two, 'old', 'new'), /@@ -1,4 \+1,4 @@\n-a\n\+A\n b\n c\n d\n@@ -7,4 \+7,4 @@\n g\n h\n i\n-j\n\+J\n$/)

  t.equal(unifiedDiff('', 'x\n', 'old', 'new'), ['--- old', '+++ new', '@@ -0,0 +1,1 @@', '+x', ''].join('\n'))
  t.match(unifiedDiff('x\n', 'x', 'old', 'new'), 'only the line endings or the final newline differ')
})
