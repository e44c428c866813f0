"""One figure style for the whole site: one palette, one colour per method, everywhere.

Figures are drawn on a white card with dark ink, which reads the same in the site's light and
dark themes (the CSS rounds the card's corners). Pages import this module in a demo cell only,
so importing a paired module never imports matplotlib.

Example::

    fig, ax = figures.subplots(title="Nesterov needs 40% fewer steps than momentum")
    ax.plot(steps, loss, color=figures.color("nesterov"), label="Nesterov")
"""

from __future__ import annotations

import base64
import tempfile
import zlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["COLORS", "animation", "color", "subplots", "use_style"]

# Okabe-Ito, a palette that colour-blind readers can tell apart, plus grey.
_BLUE, _ORANGE, _GREEN, _VERMILION = "#0072B2", "#E69F00", "#009E73", "#D55E00"
_PURPLE, _SKY, _OLIVE, _GREY, _INK = "#CC79A7", "#56B4E9", "#9A8700", "#7F7F7F", "#222222"

COLORS: dict[str, str] = {
    # optimisers
    "gd": _INK,
    "sgd": _BLUE,
    "momentum": _ORANGE,
    "nesterov": _GREEN,
    "rmsprop": _VERMILION,
    "adam": _PURPLE,
    "adagrad": _SKY,
    "adadelta": _OLIVE,
    # activations
    "relu": _GREEN,
    "tanh": _BLUE,
    "sigmoid": _VERMILION,
    # data splits and comparisons
    "train": _BLUE,
    "test": _VERMILION,
    "select": _ORANGE,
    "paper": _GREY,
    "replica": _BLUE,
    "baseline": _GREY,
    # regularisers
    "none": _GREY,
    "dropout": _GREEN,
    "l1": _ORANGE,
    "l2": _PURPLE,
    # models and machines
    "perceptron": _BLUE,
    "mlp": _GREEN,
    "rnn": _VERMILION,
    "lstm": _GREEN,
    "svm": _PURPLE,
    "net": _BLUE,
    "linear": _GREY,
    "gmdh": _GREEN,
    "pretrained": _GREEN,
    "random": _VERMILION,
    "pca": _GREY,
    "cpu": _BLUE,
    "cuda": "#5E9A00",
    "autograd": _GREY,
    "manual": _BLUE,
    "forward": _ORANGE,
    "reverse": _BLUE,
}
_CYCLE = [_BLUE, _ORANGE, _GREEN, _VERMILION, _PURPLE, _SKY, _OLIVE, _GREY]

_STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.edgecolor": "#444444",
    "axes.labelcolor": _INK,
    "text.color": _INK,
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "axes.grid": True,
    "grid.color": "#E3E3E3",
    "grid.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "legend.frameon": False,
    "legend.fontsize": 9,
    "lines.linewidth": 2.0,
    "font.size": 10,
    "image.cmap": "viridis",
    "axes.prop_cycle": matplotlib.cycler(color=_CYCLE),
    "figure.dpi": 100,
}


def use_style() -> None:
    """Apply the site style to every figure drawn from now on."""
    plt.rcParams.update(_STYLE)


def color(name: str) -> str:
    """The site colour of a method, activation, split or model (case-insensitive).

    Unknown names get a stable colour from the palette, so the same name always has the
    same colour.
    """
    key = name.lower().replace("-", "").replace(" ", "")
    if key in COLORS:
        return COLORS[key]
    return _CYCLE[zlib.crc32(key.encode()) % len(_CYCLE)]


def subplots(
    nrows: int = 1,
    ncols: int = 1,
    *,
    title: str | None = None,
    width: float | None = None,
    height: float | None = None,
    **kwargs,
):
    """``plt.subplots`` in the site style; ``title`` should state the finding.

    The default size fits the page's text column: 6.4 inches for one panel, at most 7.5.
    """
    use_style()
    width = width or min(7.5, 3.4 * ncols + 3.0)
    height = height or 3.2 * nrows + (0.4 if title else 0)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained", **kwargs)
    if title:
        fig.suptitle(title)
    return fig, axes


class _HTML:
    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html


def animation(anim, *, fps: int = 12, alt: str = "animation") -> _HTML:
    """Embed a matplotlib animation as a looping GIF in the page (no ffmpeg needed).

    Make this the cell's last expression; the figure behind the animation is closed so it
    does not also appear as a still.
    """
    from matplotlib.animation import PillowWriter

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "animation.gif"
        anim.save(path, writer=PillowWriter(fps=fps))
        data = base64.b64encode(path.read_bytes()).decode()
    plt.close(anim._fig)
    return _HTML(f'<img class="nutshell-animation" alt="{alt}" src="data:image/gif;base64,{data}">')
