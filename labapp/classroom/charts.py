"""Small server-rendered SVG charts: the numbers are computed here, the markup is
templates/classroom/_chart.html. No JavaScript and no chart library: three chart shapes do not justify
a dependency, and an SVG with <title>, <desc> and a data table beside it reads well to screen readers
and prints as is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH, HEIGHT = 480, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 12, 42


@dataclass
class Bar:
    label: str
    value: float
    text: str  # the value as shown (the count, or "80%")
    short: str = ""  # the label under the bar when the full one does not fit (the table has the full one)
    x: float = 0
    y: float = 0
    w: float = 0
    h: float = 0
    label_x: float = 0


@dataclass
class Chart:
    id: str
    title: str
    summary: str  # the text alternative: what the picture says, in one or two sentences
    x_label: str
    y_label: str
    bars: list[Bar]
    columns: tuple[str, str]
    empty: bool = False
    ticks: list[dict] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    plot_bottom: int = HEIGHT - BOTTOM
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT


def _layout(chart: Chart, top_value: float) -> Chart:
    n = len(chart.bars)
    if not n:
        chart.empty = True
        return chart
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top_value = top_value or 1
    slot = plot_w / n
    for i, bar in enumerate(chart.bars):
        bar.w = round(slot * 0.8, 1)
        bar.x = round(LEFT + i * slot + slot * 0.1, 1)
        bar.h = round(plot_h * bar.value / top_value, 1)
        bar.y = round(TOP + plot_h - bar.h, 1)
        bar.label_x = round(bar.x + bar.w / 2, 1)
        bar.short = bar.short or bar.label
    steps = 4
    chart.ticks = [
        {"y": round(TOP + plot_h - plot_h * k / steps, 1), "text": _number(top_value * k / steps)}
        for k in range(steps + 1)
    ]
    return chart


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def score_distribution(chart_id: str, title: str, percents: list[float]) -> Chart:
    """Learners per score band of 10 percentage points (100% has a band of its own)."""
    bands = [0] * 11
    for p in percents:
        bands[10 if p >= 100 else max(0, int(p // 10))] += 1
    labels = [f"{10 * i}–{10 * i + 9}%" for i in range(10)] + ["100%"]
    bars = [Bar(label=labels[i], value=count, text=str(count), short=str(10 * i)) for i, count in enumerate(bands)]
    if percents:
        median = sorted(percents)[len(percents) // 2]
        full = bands[10]
        summary = (f"{len(percents)} scored; median {median:.0f}%; {full} with full marks; "
                   f"{sum(bands[:5])} below 50%.")
    else:
        summary = "No scores yet."
        bars = []
    chart = Chart(chart_id, title, summary, "Score (%, bands of 10)", "Learners", bars, ("Score band", "Learners"))
    return _layout(chart, _count_top(max(bands)) if percents else 0)


def time_to_complete(chart_id: str, title: str, minutes: list[float]) -> Chart:
    """Learners per band of minutes from first start to submission, in up to 8 even bands."""
    if not minutes:
        return Chart(chart_id, title, "Nobody has finished yet.", "Minutes", "Learners", [],
                     ("Minutes", "Learners"), empty=True)
    top = max(minutes)
    step = max(5, math.ceil(top / 8 / 5) * 5)  # bands of a round number of minutes
    count = max(1, math.ceil((top + 1e-9) / step))
    bands = [0] * count
    for m in minutes:
        bands[min(count - 1, int(m // step))] += 1
    bars = [Bar(label=f"{i * step}–{(i + 1) * step}", value=n, text=str(n)) for i, n in enumerate(bands)]
    ordered = sorted(minutes)
    summary = (f"{len(minutes)} finished; median {ordered[len(ordered) // 2]:.0f} minutes; "
               f"fastest {ordered[0]:.0f}, slowest {ordered[-1]:.0f}.")
    chart = Chart(chart_id, title, summary, "Minutes from start to submission", "Learners", bars,
                  ("Minutes", "Learners"))
    return _layout(chart, _count_top(max(bands)))


def _count_top(largest: int) -> int:
    """The top of a count axis: a multiple of the 4 grid steps, so every grid line is a whole number."""
    return max(4, -(-largest // 4) * 4)


def pass_rate(chart_id: str, title: str, tasks: list[dict], started: int) -> Chart:
    """Per task: the share of learners who started the lab and have passed it."""
    bars = [Bar(label=t["id"], value=t["pass_rate"], text=f"{t['pass_rate']:.0f}%") for t in tasks]
    if started and tasks:
        hardest = min(tasks, key=lambda t: t["pass_rate"])
        summary = (f"Of {started} learner{'s' if started != 1 else ''} who started, the lowest pass rate is "
                   f"{hardest['pass_rate']:.0f}% on “{hardest['title']}”.")
    else:
        summary, bars = "Nobody has started yet.", []
    chart = Chart(chart_id, title, summary, "Task", "Passed (% of learners who started)", bars,
                  ("Task", "Passed"))
    return _layout(chart, 100)
