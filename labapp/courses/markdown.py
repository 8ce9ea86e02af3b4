"""Markdown rendering for lessons and lab instructions.

markdown-it-py (CommonMark + tables + strikethrough), fenced code highlighted by Pygments (CSS classes,
styles in static/css/pygments.css), heading anchors for a table of contents, exam-tip callouts, and
finally nh3 sanitising with an allowlist: whatever an author (or a parameter value) writes, the result
has no scripts, no event handlers, no style, no htmx attributes and only http/https/mailto links.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nh3
from django.utils.text import slugify
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from labapp.grading.templating import PLACEHOLDER

PYGMENTS_CSS_CLASS = "highlight"
_FORMATTER = HtmlFormatter(cssclass=PYGMENTS_CSS_CLASS, nowrap=True)

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "samp",
    "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "abbr": {"title"},
    "code": {"class"},
    "span": {"class"},
    "div": {"class"},
    "pre": {"class"},
    "blockquote": {"class"},
    "ol": {"start"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}
URL_SCHEMES = {"http", "https", "mailto"}
EXAM_TIP_CLASS = "callout exam-tip"


def _highlight(code: str, lang: str, _attrs: str) -> str:
    if not lang:
        return ""
    try:
        lexer = get_lexer_by_name(lang.split()[0])
    except ClassNotFound:
        return ""
    # markdown-it uses the result as is when it starts with <pre.
    name = html.escape(lang.split()[0])
    body = highlight(code, lexer, _FORMATTER)
    return f'<pre class="{PYGMENTS_CSS_CLASS}"><code class="language-{name}">{body}</code></pre>\n'


def _md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True, "highlight": _highlight}).enable(["table", "strikethrough"])


_MD = _md()


def _is_exam_tip(tokens, i) -> bool:
    """A blockquote whose first paragraph starts with **Exam tip:** (or **Exam tip**:)."""
    if i + 2 >= len(tokens) or tokens[i + 1].type != "paragraph_open" or tokens[i + 2].type != "inline":
        return False
    children = [c for c in tokens[i + 2].children or [] if not (c.type == "text" and not c.content)]
    if len(children) < 3 or children[0].type != "strong_open" or children[1].type != "text":
        return False
    label = children[1].content.strip().lower()
    after = children[3].content if len(children) > 3 and children[3].type == "text" else ""
    return label == "exam tip:" or (label == "exam tip" and after.startswith(":"))


def render_markdown(text: str, resolve_url=None) -> tuple[str, list[dict]]:
    """Markdown -> (sanitised HTML, table of contents [{level, id, title}]).

    `resolve_url(kind, url, line)`, if given, is called for every Markdown link (kind "link", its href)
    and image (kind "image", its src), with the 1-based line in `text`; it returns the URL to use
    instead, or None to keep it. The loader uses it to check links and to point relative ones (other
    lessons, images/<name>.svg) at their routes.
    """
    env: dict = {}
    tokens = _MD.parse(text, env)
    toc: list[dict] = []
    used: dict[str, int] = {}
    if resolve_url is not None:
        _resolve_urls(tokens, resolve_url)
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            title = "".join(c.content for c in (tokens[i + 1].children or []) if c.type in ("text", "code_inline"))
            base = slugify(title) or "section"
            used[base] = used.get(base, 0) + 1
            anchor = base if used[base] == 1 else f"{base}-{used[base]}"
            token.attrSet("id", anchor)
            toc.append({"level": int(token.tag[1]), "id": anchor, "title": title})
        elif token.type == "blockquote_open" and _is_exam_tip(tokens, i):
            token.attrSet("class", EXAM_TIP_CLASS)
    raw = _MD.renderer.render(tokens, _MD.options, env)
    return scroll_boxes(sanitize(raw)), toc


def _resolve_urls(tokens, resolve_url) -> None:
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        line = token.map[0] + 1 if token.map else None
        for child in token.children:
            if child.type == "link_open":
                attr = "href"
            elif child.type == "image":
                attr = "src"
            else:
                continue
            url = child.attrGet(attr)
            if url is None:
                continue
            at = line
            if line is not None:  # the line of the paragraph that holds the URL
                at = next((line + i for i, text in enumerate(token.content.splitlines()) if str(url) in text), line)
            new = resolve_url("link" if attr == "href" else "image", str(url), at)
            if new is not None:
                child.attrSet(attr, new)


_PRE = re.compile(r'<pre(?: class="([^"]*)")?>(<code class="language-([\w+#.-]+)">)?')
_TABLE = re.compile(r"<table>(.*?)</table>", re.DOTALL)
_HEADER_CELL = re.compile(r"<th[^>]*>(.*?)</th>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def scroll_boxes(safe_html: str) -> str:
    """Code blocks and tables scroll sideways inside the text column (app.css) rather than widen the page
    on a phone. A box that scrolls must be reachable by keyboard to be scrolled (WCAG 2.1.1), so each is
    a focusable group with a name saying what it holds. Runs on sanitised HTML, where every `<pre` and
    `<table>` is a real tag (text is escaped), and adds only fixed attributes and escaped text."""

    def pre(match: re.Match) -> str:
        css_class, code_tag, language = match.groups()
        name = f"Code example ({language})" if language else "Code example"
        class_attr = f' class="{css_class}"' if css_class else ""
        return f'<pre{class_attr} tabindex="0" role="group" aria-label="{html.escape(name)}">{code_tag or ""}'

    def table(match: re.Match) -> str:
        headers = [html.unescape(_TAG.sub("", cell)).strip() for cell in _HEADER_CELL.findall(match.group(1))]
        name = "Table" + (": " + ", ".join(h for h in headers if h) if any(headers) else "")
        if len(name) > 80:
            name = name[:79] + "…"
        return (f'<div class="table-scroll" tabindex="0" role="group" aria-label="{html.escape(name)}">'
                f"{match.group(0)}</div>")

    return _TABLE.sub(table, _PRE.sub(pre, safe_html))


def sanitize(raw_html: str) -> str:
    return nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_lab_instructions(lab, params: dict) -> str:
    """A lab's instructions as HTML, with the learner's parameter values filled in.

    `lab` is a Lab row or a lab definition dict. Each placeholder becomes an inert marker word before
    Markdown rendering, and the marker is replaced by the HTML-escaped value afterwards: a value is
    escaped exactly once, in text and in code alike, and can never become markup. A placeholder without
    a value (e.g. a preview without a session) is shown as written.
    """
    definition = lab.definition if hasattr(lab, "definition") else lab
    text = definition.get("instructions", "")
    values: list[str] = []

    def marker(match: re.Match) -> str:
        name = match.group(1)
        values.append(str(params[name]) if params and name in params else "{{ " + name + " }}")
        return f"zzlabparam{len(values) - 1}zz"

    body, _ = render_markdown(PLACEHOLDER.sub(marker, text))
    body = re.sub(r'id="([^"]*)"', lambda m: 'id="{}"'.format(
        re.sub(r"zzlabparam(\d+)zz", lambda n: slugify(values[int(n.group(1))]), m.group(1))), body)
    return re.sub(r"zzlabparam(\d+)zz", lambda m: html.escape(values[int(m.group(1))]), body)


def pygments_css() -> str:
    return _FORMATTER.get_style_defs(f".{PYGMENTS_CSS_CLASS}")


def write_pygments_css(path: Path | None = None) -> Path:
    from django.conf import settings

    path = Path(path or Path(settings.BASE_DIR) / "static" / "css" / "pygments.css")
    path.parent.mkdir(parents=True, exist_ok=True)
    css = "/* Generated by labapp.courses.markdown.write_pygments_css; do not edit. */\n" + pygments_css() + "\n"
    if not path.exists() or path.read_text() != css:
        path.write_text(css)
    return path
