"""The digest's chart: one horizontal bar per task group (and per plan, and in total), cut by
status in the city office's words, as a small PNG.

Headless by construction: matplotlib's object API with the Agg canvas, so pyplot (and its
global figure manager, which wants a display and is not safe beside the bot's other work) is
never imported. Every label is drawn with DejaVu Sans, the font matplotlib ships, which has all
of Vietnamese's letters (ệ, ử, ỹ, …): the chart never depends on the fonts of the machine it runs
on, and a letter missing from the font would make matplotlib warn "Glyph … missing" (the tests
turn that warning into a failure).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import FuncFormatter
from PIL import Image

from handlers.i18n import day, number, t
from handlers.wording import short
from storage.figures import Counts, Figures
from storage.models import TaskStatus

FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT_FILES = {"normal": FONTS / "DejaVuSans.ttf", "bold": FONTS / "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVu Sans"  # the same font by name, for the tick labels
# The bar's segments, left to right: completed first, then open work, then what needs a look.
ORDER = (
    TaskStatus.DONE_ON_TIME,
    TaskStatus.DONE_LATE,
    TaskStatus.DONE,
    TaskStatus.IN_PROGRESS,
    TaskStatus.NOT_STARTED,
    TaskStatus.PAUSED,
    TaskStatus.EXTENSION_REQUESTED,
    TaskStatus.BLOCKED,
    TaskStatus.OVERDUE,
    TaskStatus.NOT_REPORTED,
)
COLOURS = {
    TaskStatus.DONE_ON_TIME: "#2e7d32",
    TaskStatus.DONE_LATE: "#81c784",
    TaskStatus.DONE: "#4caf50",
    TaskStatus.IN_PROGRESS: "#1e88e5",
    TaskStatus.NOT_STARTED: "#b0bec5",
    TaskStatus.PAUSED: "#8d6e63",
    TaskStatus.EXTENSION_REQUESTED: "#8e24aa",
    TaskStatus.BLOCKED: "#fb8c00",
    TaskStatus.OVERDUE: "#e53935",
    TaskStatus.NOT_REPORTED: "#616161",
}
DARK = {TaskStatus.NOT_STARTED, TaskStatus.DONE_LATE}  # light fills: their numbers in black
LABEL_LIMIT = 56  # characters of a bar's label (a group's name is often longer)
# About 900 pixels wide, a row per bar: readable in a chat, and a few tens of KB.
WIDTH, DPI, ROW, BAR = 10.0, 90, 0.36, 0.7  # inches, dots per inch, inches per bar, bar's share
TOP, AXIS, LEGEND_ROW = 0.5, 0.6, 0.24  # inches: the title, the x axis, a row of the legend
RIGHT = 0.7  # inches right of the bars: each bar's number of tasks
MIN_SHARE_WRITTEN = 4.0  # a segment narrower than this (% of its bar) carries no number
LEGEND_COLUMNS = 3
COLOURS_KEPT = 96  # the PNG's palette: flat colours and anti-aliased text need no more


@dataclass(frozen=True)
class Bar:
    label: str
    counts: Counts
    bold: bool = False


def chart_png(figures: Figures, lang: str) -> bytes:
    """The chart of `figures` in `lang` as PNG bytes (a notice when no plan is followed)."""
    bars = chart_bars(figures, lang)
    shown = [status for status in ORDER if any(bar.counts.of(status) for bar in bars)]
    legend_rows = -(-len(shown) // LEGEND_COLUMNS)
    bottom = AXIS + LEGEND_ROW * legend_rows + 0.15
    height = TOP + ROW * max(len(bars), 2) + bottom
    figure = Figure(figsize=(WIDTH, height), dpi=DPI)
    canvas = FigureCanvasAgg(figure)
    # Margins in inches, set once: a layout engine would draw the figure twice to find them.
    left = min(0.3 + 0.075 * max((len(bar.label) for bar in bars), default=0), WIDTH / 2)
    figure.subplots_adjust(
        left=left / WIDTH, right=1 - RIGHT / WIDTH, top=1 - TOP / height, bottom=bottom / height
    )
    axes = figure.add_subplot()
    axes.set_title(t(lang, "fig_title", date=day(figures.today)), fontproperties=_font(12, "bold"))
    if bars:
        _draw(figure, axes, bars, shown, lang)
    else:
        axes.set_axis_off()
        axes.text(0.5, 0.5, t(lang, "fig_no_plans"), ha="center", fontproperties=_font(10))
    return _png(canvas)


def _png(canvas: FigureCanvasAgg) -> bytes:
    """The drawing as a palette PNG: a third of the size of matplotlib's own RGBA one."""
    canvas.draw()
    pixels = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    image = pixels.quantize(COLOURS_KEPT, Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def chart_bars(figures: Figures, lang: str) -> list[Bar]:
    """Top to bottom: each plan's groups (after the plan's own bar when several plans are
    followed), then the total."""
    bars: list[Bar] = []
    for plan in figures.plans:
        if figures.several:
            name = t(lang, "digest_plan_total", short=plan.short_name)
            bars.append(Bar(name, plan.counts, bold=True))
        for group in plan.groups:
            label = f"{group.roman}. {group.name}"
            if figures.several:
                label = f"{plan.short_name} · {label}"
            bars.append(Bar(short(label, LABEL_LIMIT), group.counts))
    if figures.plans:
        bars.append(Bar(t(lang, "digest_total"), figures.total, bold=True))
    return bars


def _draw(
    figure: Figure, axes: Axes, bars: Sequence[Bar], shown: Sequence[TaskStatus], lang: str
) -> None:
    """Each bar as shares of its own tasks (a group of 30 tasks reads beside a total of
    10,000), the counts written in the segments where they fit and each bar's number of
    tasks at its end; one collection of rectangles per status (hundreds of bar patches would
    cost most of the chart's time); a legend in the office's words."""
    lefts = [0.0] * len(bars)
    half = BAR / 2
    for status in shown:
        counts = [bar.counts.of(status) for bar in bars]
        widths = [bar.counts.share(count) for bar, count in zip(bars, counts, strict=True)]
        boxes = [
            [(x, y - half), (x, y + half), (x + width, y + half), (x + width, y - half)]
            for y, (x, width) in enumerate(zip(lefts, widths, strict=True))
            if width
        ]
        label = t(lang, f"status_{status.value}")
        axes.add_collection(PolyCollection(boxes, facecolors=COLOURS[status], label=label))
        for y, (x, width, count) in enumerate(zip(lefts, widths, counts, strict=True)):
            if width >= MIN_SHARE_WRITTEN:
                colour = "black" if status in DARK else "white"
                _write(axes, x + width / 2, y, number(lang, count), colour, "center")
        lefts = [x + width for x, width in zip(lefts, widths, strict=True)]
    for y, bar in enumerate(bars):
        _write(axes, 101, y, number(lang, bar.counts.tasks), "black", "left")
    axes.set_xlim(0, 100)
    axes.set_ylim(len(bars) - 0.5, -0.5)  # the first plan on top, the total at the bottom
    axes.set_yticks(range(len(bars)), [bar.label for bar in bars])
    for tick, bar in zip(axes.get_yticklabels(), bars, strict=True):
        tick.set_fontweight("bold" if bar.bold else "normal")
    axes.tick_params(labelfontfamily=FAMILY, labelsize=9)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{number(lang, value)}%"))
    axes.set_xlabel(t(lang, "digest_chart_axis"), fontproperties=_font(9))
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    axes.set_axisbelow(True)
    figure.legend(
        loc="lower center", ncols=LEGEND_COLUMNS, prop=_font(9), frameon=False, borderaxespad=0.4
    )


def _write(axes: Axes, x: float, y: float, text: str, colour: str, align: str) -> None:
    axes.text(
        x, y, text, ha=align, va="center", color=colour, fontproperties=_font(7), clip_on=False
    )


def _font(size: float, weight: str = "normal") -> FontProperties:
    """DejaVu Sans from matplotlib's own files (a file is one weight: bold is its own file)."""
    return FontProperties(fname=FONT_FILES[weight], size=size)
