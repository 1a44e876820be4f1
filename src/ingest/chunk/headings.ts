/** A markdown heading and where its line starts in the text. */
export interface HeadingMark {
  offset: number
  level: number
  title: string
}

const HEADING = /^(#{1,6})[ \t]+(.+?)[ \t#]*$/
const FENCE = /^(```|~~~)/

/** Finds ATX headings, ignoring lines inside fenced code blocks (a `# comment` in bash is no heading). */
export function findHeadings(text: string): HeadingMark[] {
  const marks: HeadingMark[] = []
  let inFence = false
  let offset = 0
  for (const line of text.split('\n')) {
    if (FENCE.test(line.trimStart())) inFence = !inFence
    else if (!inFence) {
      const m = HEADING.exec(line)
      if (m) marks.push({ offset, level: m[1]!.length, title: m[2]!.trim() })
    }
    offset += line.length + 1
  }
  return marks
}

/**
 * Returns a function giving the heading path in force at a character offset (outermost first).
 * Paths are precomputed once per heading so lookups are a binary search.
 */
export function headingPathIndex(text: string): (offset: number) => string[] {
  const marks = findHeadings(text)
  const paths: string[][] = []
  const stack: HeadingMark[] = []
  for (const m of marks) {
    while (stack.length > 0 && stack[stack.length - 1]!.level >= m.level) stack.pop()
    stack.push(m)
    paths.push(stack.map((s) => s.title))
  }
  return (offset) => {
    let lo = 0
    let hi = marks.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (marks[mid]!.offset <= offset) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found < 0 ? [] : paths[found]!
  }
}
