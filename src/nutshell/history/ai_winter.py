# %% [markdown]
# # The AI winters: half a century of deep learning on one timeline
#
# *Annotates the article's sections **AI winter (人工智能寒冬)** and **Brief history
# (深度学习的简史)**.*
#
# Fast progress in machine learning and automated reasoning in the 1950s and 1960s produced a
# wave of hype, much like today's excitement about deep learning. Researchers promised that the
# progress would continue until machines were as intelligent as people ("strong AI"), and the
# money followed. In the 1970s it became clear that those promises would not be kept. Funding
# was cut sharply, and "artificial intelligence" came close to meaning pseudo-science: with
# little money and reviewers hostile to the subject, papers hardly got published. A few
# researchers kept going anyway, and their work led to the field's recovery and to deep learning.
# The article draws the lesson that overselling deep learning is dangerous, and that this is why
# researchers are wary of predictions: nobody wants another AI winter.
#
# Historians usually count two winters. The first, roughly **1974 to 1980**, followed the
# Lighthill report to the British Science Research Council (1973) and cuts to American
# research funding (DARPA) in 1974. The second, roughly **1987 to 1993**, followed the collapse
# of the market for specialised LISP machines in 1987 and the disappointment with expert systems.
# The dates are approximate, and neural networks had their own, longer chill: after Minsky and
# Papert's *Perceptrons* in 1969 (see [the perceptron page](perceptron.md)) they were out of
# favour until back-propagation returned in the mid-1980s, and again after support vector
# machines arrived in the mid-1990s.
#
# This page keeps the article's history as **one table** in the module. The timeline below and
# the [history index](index.md) are both generated from it, and each event links to the page
# that replicates it.
#
# ## The table
#
# Each `Event` has a year, a short title, who did it, the replica page (a name such as
# `"history/gmdh"`, or `None` when there is nothing to replicate) and a kind. An event checks
# itself when it is created: a misspelt page name or an unknown kind fails at import, not as a
# broken link on the site.

# %%
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# the replica pages an event may link to
PAGES = (
    "history/perceptron",
    "history/gmdh",
    "history/neocognitron",
    "history/reverse_mode",
    "history/representations",
    "history/lenet1989",
    "history/lstm1997",
    "history/svm1995",
    "history/pretraining",
    "history/gpu_era",
    "history/alexnet",
)

# what an event was: a new network, a training method, a setback, a rival method, ...
KINDS = ("network", "method", "setback", "rival", "hardware", "industry")


@dataclass(frozen=True)
class Event:
    """One event of the article's history.

    Raises:
        ValueError: when the year is outside 1900-2100, the title or authors are empty, the
            page is not one of ``PAGES`` or the kind not one of ``KINDS``.
    """

    year: int
    title: str
    who: str
    page: str | None
    kind: str

    def __post_init__(self) -> None:
        if not isinstance(self.year, int) or not 1900 <= self.year <= 2100:
            raise ValueError(f"year must be an int in 1900-2100, got {self.year!r}")
        if not self.title.strip() or not self.who.strip():
            raise ValueError(f"title and who must not be empty (event of {self.year})")
        if self.page is not None and self.page not in PAGES:
            raise ValueError(f"page must be None or one of {PAGES}, got {self.page!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def topic(self) -> str | None:
        """The page's name within its section, e.g. ``"gmdh"`` for ``"history/gmdh"``."""
        return None if self.page is None else self.page.split("/", 1)[1]


class Winter(NamedTuple):
    """An AI winter: first and last year, and a label."""

    start: int
    end: int
    label: str


WINTERS = (
    Winter(1974, 1980, "first AI winter"),
    Winter(1987, 1993, "second AI winter"),
)

# the article's history, oldest first
# fmt: off
EVENTS = (
    Event(1958, "The perceptron learns to classify", "Rosenblatt", "history/perceptron", "network"),
    Event(1960, "The delta rule", "Widrow and Hoff", "history/perceptron", "method"),
    Event(1965, "GMDH: the first deep networks", "Ivakhnenko and Lapa", "history/gmdh", "network"),
    Event(1969, "Perceptrons: a single unit cannot do XOR", "Minsky and Papert", "history/perceptron", "setback"),
    Event(1970, "Reverse-mode differentiation", "Linnainmaa", "history/reverse_mode", "method"),
    Event(1971, "An eight-layer GMDH network", "Ivakhnenko", "history/gmdh", "network"),
    Event(1979, "Neocognitron: convolution and pooling", "Fukushima", "history/neocognitron", "network"),
    Event(1982, "Reverse mode applied to neural networks", "Werbos", "history/reverse_mode", "method"),
    Event(1986, "Back-propagation learns representations", "Rumelhart, Hinton and Williams", "history/representations", "method"),
    Event(1989, "Convolutional network + back-propagation reads digits", "LeCun et al.", "history/lenet1989", "network"),
    Event(1992, "Unsupervised pretraining of a recurrent hierarchy", "Schmidhuber", "history/pretraining", "method"),
    Event(1995, "Support vector machines", "Cortes and Vapnik", "history/svm1995", "rival"),
    Event(1997, "Long short-term memory (LSTM)", "Hochreiter and Schmidhuber", "history/lstm1997", "network"),
    Event(2006, "Layer-wise pretraining of deep networks", "Hinton and Salakhutdinov", "history/pretraining", "method"),
    Event(2010, "Deep plain networks trained on GPUs", "Ciresan et al.", "history/gpu_era", "hardware"),
    Event(2011, "GPU convolutional networks win competitions", "Ciresan et al.", "history/gpu_era", "network"),
    Event(2012, "AlexNet wins ILSVRC-2012 (ReLU, dropout)", "Krizhevsky, Sutskever and Hinton", "history/alexnet", "network"),
    Event(2013, "Big companies buy deep-learning teams (2012-2014)", "Google, Facebook, Microsoft", None, "industry"),
)
# fmt: on


# %% [markdown]
# ## The table as Markdown
#
# `events_markdown` writes the table for a page: each title links to its replica page, relative
# to `base`. The [history index](index.md) sits next to the replica pages, so it uses the default
# `base=""` and links such as `gmdh.md`; a page elsewhere passes, say, `base="../history/"`.
#
#
#


# %%
def _cell(text: str) -> str:
    """Text that is safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def events_markdown(base: str = "") -> str:
    """The events as a Markdown table: year, event (linked to its page), who.

    Args:
        base: prefix of the links, e.g. ``""`` from ``docs/history/`` or ``"../history/"``
            from another section; a link reads ``[title](<base><topic>.md)``.
    """
    rows = ["| Year | Event | Who |", "|---:|---|---|"]
    for event in EVENTS:
        title = _cell(event.title)
        if event.topic is not None:
            title = f"[{title}]({base}{event.topic}.md)"
        rows.append(f"| {event.year} | {title} | {_cell(event.who)} |")
    return "\n".join(rows) + "\n"


def in_winter(year: int) -> Winter | None:
    """The winter that ``year`` falls in, or None."""
    return next((w for w in WINTERS if w.start <= year <= w.end), None)


# %% [markdown]
# ## Placing the labels
#
# A timeline with events two years apart needs its labels spread out, or they print on top of
# each other. `label_positions` moves labels as little as possible: it finds the positions $p_i$
# closest to the event years $y_i$ (least squares) that keep every neighbour at least a gap $g$
# apart, $p_{i+1} - p_i \ge g$. Writing $p_i = q_i + i g$ turns the constraint into
# $q_{i+1} \ge q_i$: the best non-decreasing fit to $y_i - i g$, which the pool-adjacent-violators
# algorithm finds exactly: scan left to right and merge any block that sits below its neighbour
# into one block at their mean.
#
#
#


# %%
def label_positions(values: list[float], gap: float) -> list[float]:
    """Positions nearest to sorted ``values`` (least squares) with neighbours ``gap`` apart.

    Minimises $\\sum_i (p_i - y_i)^2$ subject to $p_{i+1} - p_i \\ge g$ by pool-adjacent-violators
    on $y_i - i g$.

    Raises:
        ValueError: when ``values`` is not sorted or ``gap`` is negative.
    """
    if gap < 0:
        raise ValueError(f"gap must be >= 0, got {gap!r}")
    if any(b < a for a, b in zip(values, values[1:])):
        raise ValueError("values must be sorted in increasing order")
    blocks: list[list[float]] = []  # [mean, count] of pooled q's
    for i, y in enumerate(values):
        blocks.append([y - i * gap, 1])
        # merge while a block sits below the one before it: q must not decrease
        while len(blocks) > 1 and blocks[-1][0] < blocks[-2][0]:
            mean, count = blocks.pop()
            prev_mean, prev_count = blocks[-1]
            blocks[-1] = [
                (prev_mean * prev_count + mean * count) / (prev_count + count),
                prev_count + count,
            ]
    q = [mean for mean, count in blocks for _ in range(int(count))]
    return [qi + i * gap for i, qi in enumerate(q)]


# %% [markdown]
# ## The timeline
#
# Time runs down the page. Each event sits on the axis at its year, coloured by kind; its label
# is placed by `label_positions` and joined to the year by a thin line. The winters are shaded.

# %% active="ipynb"
# from nutshell import figures
# from nutshell.claims import claim
#
# KIND_COLORS = {
#     "network": figures.color("net"),
#     "method": figures.color("mlp"),
#     "setback": figures.color("test"),
#     "rival": figures.color("svm"),
#     "hardware": figures.color("select"),
#     "industry": figures.color("baseline"),
# }
# AXIS = 2.3  # where the time axis runs (the x range is 0-10)
# years = [e.year for e in EVENTS]
# first = next(e for e in EVENTS if e.page == "history/gmdh")
# alexnet = next(e for e in EVENTS if e.page == "history/alexnet")
# top, bottom = min(years) - 3, max(years) + 3
# fig, ax = figures.subplots(
#     width=7.5, height=10,
#     title=f"From GMDH ({first.year}) to AlexNet ({alexnet.year}): "
#     f"{len(EVENTS)} events, {len(WINTERS)} winters",
# )
# ax.set(ylim=(bottom, top), xlim=(0, 10), xticks=[], ylabel="year")
# ax.grid(False)
# for side in ("top", "right", "bottom"):
#     ax.spines[side].set_visible(False)
# fig.canvas.draw()  # fix the layout, then measure how many years one line of text takes
# height_in = ax.get_window_extent().height / fig.dpi
# fontsize = 9
# gap = 2.7 * fontsize / 72 * (bottom - top) / height_in  # two lines of text
# positions = label_positions([float(y) for y in years], gap)
#
# for w in WINTERS:
#     ax.axhspan(w.start, w.end + 1, color="#9ecae1", alpha=0.35, lw=0, zorder=0)
#     ax.text(0.1, (w.start + w.end + 1) / 2, f"{w.label}\n{w.start}-{w.end}", va="center",
#             fontsize=9, color="#08519c", fontstyle="italic")
# ax.axvline(AXIS, color="#444444", lw=1.2, zorder=1)
# labels = []
# for event, pos in zip(EVENTS, positions):
#     c = KIND_COLORS[event.kind]
#     ax.plot(AXIS, event.year, "o", color=c, ms=7, zorder=3, mec="white")
#     ax.plot([AXIS, AXIS + 0.4, AXIS + 0.75], [event.year, event.year, pos], color=c, lw=0.8,
#             zorder=2)
#     labels.append(ax.text(AXIS + 0.85, pos, f"{event.year}  {event.title}\n{event.who}",
#                           va="center", fontsize=fontsize, linespacing=1.2))
# for kind, c in KIND_COLORS.items():
#     ax.plot([], [], "o", color=c, label=kind)
# ax.legend(loc="lower left", title="kind of event", fontsize=8, title_fontsize=8)
#
# # measure the drawn labels: no two may overlap, and all must stay inside the figure
# fig.canvas.draw()
# renderer = fig.canvas.get_renderer()
# boxes = [t.get_window_extent(renderer) for t in labels]
# overlaps = sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
# clearance = min(b.y0 - a.y1 for a, b in zip(boxes[1:], boxes)) if len(boxes) > 1 else 0.0
# inside = all(fig.bbox.contains(b.x1, b.y0) and fig.bbox.contains(b.x1, b.y1) for b in boxes)
# print(f"label gap {gap:.2f} years; {overlaps} overlapping label pairs; smallest space between "
#       f"neighbouring labels {clearance:.1f} px; all labels inside the figure: {inside}")

# %% active="ipynb"
# winter_events = [e for e in EVENTS if in_winter(e.year)]
# book = next(e for e in EVENTS if e.kind == "setback" and e.page == "history/perceptron")
# print("events inside a winter:")
# for e in winter_events:
#     print(f"  {e.year} ({in_winter(e.year).label}): {e.title} - {e.who}")
# claim(
#     "every event is placed and labelled, and no two labels overlap",
#     measured=f"{len(labels)} labels, {overlaps} overlaps, {clearance:.1f} px clearance",
#     expected="0 overlaps, all inside the figure",
#     holds=overlaps == 0 and inside and len(labels) == len(EVENTS),
# )
# claim(
#     "a few researchers kept going through the winters",
#     measured=f"{len(winter_events)} of {len(EVENTS)} events fall inside a winter",
#     expected=">= 1",
#     holds=len(winter_events) >= 1,
# )
# claim(
#     "the perceptron's fall (1969) came before the first AI winter",
#     measured=f"{book.year}, {WINTERS[0].start - book.year} years before {WINTERS[0].start}",
#     expected="before the first winter starts",
#     holds=book.year < WINTERS[0].start,
# )

# %% [markdown]
# The events printed above, the ones that fall inside a winter, are the work of the "few
# researchers" the article means: each built something that the field later came back to.
#
# ## The table, generated
#
# This is what `events_markdown()` returns; the [history index](index.md) shows the same table
# rendered, with working links.

# %% active="ipynb"
# print(events_markdown())
