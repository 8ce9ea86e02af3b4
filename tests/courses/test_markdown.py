from pathlib import Path

from labapp.courses.markdown import pygments_css, render_lab_instructions, render_markdown

LESSON = (Path(__file__).parent / "fixtures/demo/basics/lessons/01-hello.md").read_text().split("---", 2)[2]


def test_sanitising_leaves_nothing_active():
    html, _ = render_markdown(LESSON)
    lowered = html.lower()
    for bad in ("<script", "alert(\"xss\")", "onerror", "onclick", "href=\"javascript:", "hx-get", "hx-trigger",
                "data-hx", "style=", "<iframe"):
        assert bad not in lowered, bad
    assert "<p>[click](javascript:alert(1))</p>" in html  # markdown-it refuses the link: plain text
    assert 'href="https://aws.amazon.com/s3/" rel="noopener noreferrer"' in html
    assert 'href="mailto:team@example.com"' in html
    assert '<div class="box">htmx bait</div>' in html
    assert '<img src="x.png" alt="pic">' in html


def test_highlighting_uses_css_classes():
    html, _ = render_markdown(LESSON)
    assert '<pre class="highlight" tabindex="0" role="group" aria-label="Code example (python)"><code class="language-python">' in html
    assert '<span class="k">def</span>' in html
    assert ".highlight .k" in pygments_css()


def test_tables_strikethrough_callouts_and_toc():
    html, toc = render_markdown(LESSON)
    assert "<table>" in html and "<s>block</s>" in html
    assert '<blockquote class="callout exam-tip">' in html
    assert html.count("<blockquote>") == 1  # the ordinary quote has no class
    assert '<h1 id="hello-world">' in html and '<h2 id="hello-world-2">' in html
    assert [t["id"] for t in toc] == ["hello-world", "hello-world-2"]


def test_unknown_language_is_escaped_plainly():
    html, _ = render_markdown("```nosuchlang\n<b>x</b>\n```\n")
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_lab_instructions_escape_values_once():
    lab = {"parameters": {"bucket": {}}, "instructions": "# Bucket {{ bucket }}\n\nUse `{{ bucket }}` or {{bucket}}."}
    html = render_lab_instructions(lab, {"bucket": "site-abc"})
    assert "<code>site-abc</code>" in html and "or site-abc." in html and 'id="bucket-site-abc"' in html
    evil = render_lab_instructions(lab, {"bucket": '<img src=x onerror="alert(1)">'})
    assert "<img" not in evil and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in evil
    assert "<code>&lt;img" in evil  # escaped once, not twice, inside code too
    preview = render_lab_instructions(lab, {})
    assert "{{ bucket }}" in preview


def test_code_blocks_and_tables_are_named_keyboard_reachable_scroll_boxes():
    html, _ = render_markdown("```\nplain <b>\n```\n\n| Option | `b` & c |\n|---|---|\n| 1 | 2 |\n")
    # A code block that scrolls sideways on a phone can be focused and scrolled with the arrow keys.
    assert '<pre tabindex="0" role="group" aria-label="Code example"><code>plain &lt;b&gt;' in html
    # A table scrolls in a named box of its own instead of widening the page.
    assert '<div class="table-scroll" tabindex="0" role="group" aria-label="Table: Option, b &amp; c"><table>' in html
    assert html.count("<table>") == 1 and html.rstrip().endswith("</table></div>")
