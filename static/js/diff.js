// A line diff for the per-object history: what one revision changed against the one before, as `diff -u` shows it.
//
// Myers' O(ND) algorithm ("An O(ND) Difference Algorithm and Its Variations", 1986): the shortest edit script
// between two lists of lines, found by following diagonals; revisions of one object differ in a few lines, so D is
// small. `hunks` keeps `context` unchanged lines around each change, as unified diffs do.

/**
 * lineDiff(a, b) → [{op, text}] with op " " (in both), "-" (only in a) or "+" (only in b), in order: a's lines
 * with the "-" and " " ops, b's with the "+" and " " ops.
 */
export function lineDiff(a, b) {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace = [];
  let done = false;
  for (let d = 0; d <= max && !done; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x;
      if (k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1])) x = v[offset + k + 1];
      else x = v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x += 1;
        y += 1;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        done = true;
        break;
      }
    }
  }
  // Walk the trace back from (n, m) to (0, 0).
  const out = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d];
    const k = x - y;
    let prevK;
    if (k === -d || (k !== d && vd[offset + k - 1] < vd[offset + k + 1])) prevK = k + 1;
    else prevK = k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK];
    const prevY = d === 0 ? 0 : prevX - prevK;
    while (x > prevX && y > prevY) {
      x -= 1;
      y -= 1;
      out.push({ op: " ", text: a[x] });
    }
    if (d > 0) {
      if (x === prevX) out.push({ op: "+", text: b[y - 1] });
      else out.push({ op: "-", text: a[x - 1] });
    }
    x = prevX;
    y = prevY;
  }
  return out.reverse();
}

/** The changed lines with `context` unchanged lines around them; a gap between two hunks is {op: "…"}. */
export function hunks(diff, context = 3) {
  const keep = new Array(diff.length).fill(false);
  diff.forEach((line, i) => {
    if (line.op === " ") return;
    for (let j = Math.max(0, i - context); j <= Math.min(diff.length - 1, i + context); j++) keep[j] = true;
  });
  const out = [];
  let gap = false;
  diff.forEach((line, i) => {
    if (keep[i]) {
      if (gap && out.length) out.push({ op: "…", text: "" });
      gap = false;
      out.push(line);
    } else {
      gap = true;
    }
  });
  return out;
}
