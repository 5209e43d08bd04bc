// ANSI colour codes (SGR) in a terminal line become spans with classes: bold (1, undone by 0 and
// 22), foreground 30-37 and 90-97 (undone by 0 and 39). Other escape sequences are dropped. The
// text itself only ever goes in as text.

const CSI = /\x1b\[([0-9;?]*)([@-~])/g;

// Returns { nodes, text }: the nodes to append, and the line's plain text for filtering.
export function render_ansi(line) {
  const nodes = [];
  let plain = '';
  let fg = null;
  let bold = false;
  let last = 0;
  const emit = (text) => {
    if (!text) return;
    // Any stray control character but tab is invisible noise in a log line.
    text = text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
    if (!text) return;
    plain += text;
    if (fg === null && !bold) {
      nodes.push(document.createTextNode(text));
      return;
    }
    const span = document.createElement('span');
    const classes = [];
    if (fg !== null) classes.push(`ansi-${fg}`);
    if (bold) classes.push('ansi-bold');
    span.className = classes.join(' ');
    span.textContent = text;
    nodes.push(span);
  };

  CSI.lastIndex = 0;
  for (let match; (match = CSI.exec(line)) !== null;) {
    emit(line.slice(last, match.index));
    last = CSI.lastIndex;
    if (match[2] !== 'm') continue;  // cursor movement, erase line, ...: not colour
    const codes = match[1] === '' ? [0] : match[1].split(';').map((c) => (c === '' ? 0 : Number(c)));
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i];
      if (code === 0) { fg = null; bold = false; }
      else if (code === 1) bold = true;
      else if (code === 22) bold = false;
      else if (code === 39) fg = null;
      else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) fg = code;
      else if (code === 38 || code === 48) {
        // 256-colour and true-colour forms carry arguments; skip them rather than misread them.
        i += codes[i + 1] === 5 ? 2 : codes[i + 1] === 2 ? 4 : 0;
      }
    }
  }
  emit(line.slice(last));
  return { nodes, text: plain };
}
