"""A small, safe Markdown subset for lesson texts: paragraphs, `code`, **bold**, *italic*, lists, fenced code.

Everything is HTML-escaped first; only the tags below are ever produced, so a lesson cannot inject markup.
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)([^*\n]+?)\*(?![*\w])")
_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")


def _inline(text: str) -> str:
    """Inline markup of one (already joined) block; code spans are kept verbatim."""
    parts = []
    last = 0
    for match in _CODE.finditer(text):
        parts.append(_emphasis(escape(text[last:match.start()])))
        parts.append(f"<code>{escape(match.group(1))}</code>")
        last = match.end()
    parts.append(_emphasis(escape(text[last:])))
    return "".join(parts)


def _emphasis(html: str) -> str:
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    return _ITALIC.sub(r"<em>\1</em>", html)


def _join(lines: list[str]) -> str:
    # Chinese text wraps without spaces; English lines join with one.
    out = ""
    for line in (line.strip() for line in lines):
        if out and not (ord(out[-1]) > 0x2E7F and line and ord(line[0]) > 0x2E7F):
            out += " "
        out += line
    return out


def render_markdown(text: str) -> SafeString:
    lines = (text or "").replace("\r\n", "\n").split("\n")
    html: list[str] = []
    paragraph: list[str] = []
    items: list[list[str]] = []
    list_tag = None
    i = 0

    def flush():
        nonlocal paragraph, items, list_tag
        if paragraph:
            html.append(f"<p>{_inline(_join(paragraph))}</p>")
            paragraph = []
        if items:
            body = "".join(f"<li>{_inline(_join(item))}</li>" for item in items)
            html.append(f"<{list_tag}>{body}</{list_tag}>")
            items, list_tag = [], None

    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("```"):
            flush()
            language = line.strip()[3:].strip()
            code = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                code.append(lines[i])
                i += 1
            cls = f' class="language-{escape(language)}"' if re.fullmatch(r"[\w+-]+", language or "") else ""
            html.append(f"<pre><code{cls}>{escape(chr(10).join(code))}</code></pre>")
            i += 1
            continue
        bullet, numbered = _BULLET.match(line), _NUMBERED.match(line)
        if bullet or numbered:
            tag = "ul" if bullet else "ol"
            if paragraph or (list_tag and list_tag != tag):
                flush()
            list_tag = tag
            items.append([(bullet or numbered).group(1)])
        elif not line.strip():
            flush()
        elif items and line.startswith((" ", "\t")):
            items[-1].append(line)  # a list item continued on the next line
        else:
            if items:
                flush()
            paragraph.append(line)
        i += 1
    flush()
    return mark_safe("\n".join(html))
