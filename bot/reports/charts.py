"""Charts of participation (matplotlib's Agg canvas, no display needed): by month, by topic, by school or class;
PNG in the report, SVG on the web console's pages."""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.core import activity as a
from bot.reports import tables
from bot.reports.service import ReportData

CHART_KINDS = (a.LESSON_OPENED, a.LESSON_COMPLETED, a.PRACTICE_FINISHED, a.CONTEST_SUBMITTED)
COLORS = ("#1f4e79", "#2e75b6", "#9dc3e6", "#c55a11")
DPI = 150


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure with the Agg canvas and no pyplot global state, so reports may render in worker threads."""
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def _stacked(ax: Axes, labels: list[str], series: dict[str, list[int]], horizontal: bool) -> None:
    base = [0] * len(labels)
    for (kind, values), color in zip(series.items(), COLORS, strict=False):
        if horizontal:
            ax.barh(labels, values, left=base, color=color, label=tables.SHORT_LABELS[kind])
        else:
            ax.bar(labels, values, bottom=base, color=color, label=tables.SHORT_LABELS[kind])
        base = [b + v for b, v in zip(base, values, strict=True)]
    # Below the plot, so it never covers a bar.
    ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=len(series))
    ax.grid(axis="x" if horizontal else "y", alpha=0.3)
    ax.set_axisbelow(True)
    _counts(ax, horizontal, max(base, default=0))


def _counts(ax: Axes, horizontal: bool, top: int) -> None:
    """A count axis from 0 with whole-number ticks (and 0 to 1 when nothing was counted yet)."""
    axis = ax.xaxis if horizontal else ax.yaxis
    axis.set_major_locator(MaxNLocator(integer=True))
    if horizontal:
        ax.set_xlim(0, None if top else 1)
    else:
        ax.set_ylim(0, None if top else 1)


def _svg(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    # Text drawn as paths (the default): the SVG carries no text a browser could read as markup.
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buf.getvalue()


def month_figure(data: ReportData) -> Figure:
    t = tables.month_table(data, CHART_KINDS)
    labels = [str(r[0]) for r in t.rows]
    series = {k: [int(r[2 + i] or 0) for r in t.rows] for i, k in enumerate(CHART_KINDS)}
    fig, ax = _figure(7, 3.2)
    _stacked(ax, labels, series, horizontal=False)
    ax.set_title("Lượt tham gia theo tháng", fontsize=11)
    ax.tick_params(axis="x", labelsize=8)
    if len(labels) > 8:
        ax.set_xticks(range(len(labels)), [label[:2] + "/" + label[-2:] for label in labels])
    return fig


def topic_figure(data: ReportData) -> Figure:
    t = tables.topic_table(data, CHART_KINDS)
    rows = [r for r in t.rows if r[1] != tables.NO_TOPIC][::-1]
    labels = [str(r[1]) for r in rows]
    series = {k: [int(r[3 + i] or 0) for r in rows] for i, k in enumerate(CHART_KINDS)}
    fig, ax = _figure(7, 3.2)
    _stacked(ax, labels, series, horizontal=True)
    ax.set_title("Lượt tham gia theo chủ đề", fontsize=11)
    ax.tick_params(axis="y", labelsize=8)
    return fig


def unit_figure(data: ReportData) -> Figure:
    """Students taking part per school (district-wide) or per class (one school or some classes)."""
    if data.district_wide:
        t = tables.school_table(data, ())
        rows = [(str(r[1]), int(r[2] or 0), int(r[3] or 0)) for r in t.rows]
        title = "Học sinh tham gia theo trường"
    else:
        t = tables.class_table(data, ())
        rows = [(str(r[2]), int(r[4] or 0), int(r[5] or 0)) for r in t.rows]
        title = "Học sinh tham gia theo lớp"
    rows = rows[::-1]
    labels = [r[0] for r in rows]
    fig, ax = _figure(7, max(2.5, 0.22 * len(rows) + 1.2))
    ax.barh(labels, [r[1] for r in rows], color="#d9e2f3", label="Sĩ số")
    ax.barh(labels, [r[2] for r in rows], color="#1f4e79", height=0.5, label="Học sinh tham gia")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set_title(title, fontsize=11)
    ax.tick_params(axis="y", labelsize=7 if len(rows) > 15 else 8)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    _counts(ax, True, max((max(r[1], r[2]) for r in rows), default=0))
    return fig


def by_month(data: ReportData) -> bytes:
    return _png(month_figure(data))


def by_topic(data: ReportData) -> bytes:
    return _png(topic_figure(data))


def by_unit(data: ReportData) -> bytes:
    return _png(unit_figure(data))


# The charts of the web console's pages, by the name in their address.
FIGURES = {"theo-thang": month_figure, "theo-chu-de": topic_figure, "theo-don-vi": unit_figure}


def chart_svg(data: ReportData, name: str) -> bytes:
    """One chart of `FIGURES` as SVG, for a page (KeyError for a name that is not one)."""
    return _svg(FIGURES[name](data))


def all_charts(data: ReportData) -> dict[str, bytes]:
    """File name -> PNG bytes, in the order they appear in the report."""
    return {
        "bieu-do-theo-thang.png": by_month(data),
        "bieu-do-theo-chu-de.png": by_topic(data),
        "bieu-do-theo-don-vi.png": by_unit(data),
    }
