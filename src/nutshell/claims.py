"""Claims: the sentences a page asserts, with the numbers that back them.

A page states each finding in code::

    claim("minibatch gradient variance falls as 1/batch", measured=slope,
          expected="-1", holds=abs(slope + 1) < 0.15)

On the site the claim renders as a box (statement, numbers, held or not) and joins the
site-wide Claims page; under pytest a claim that does not hold fails its page. Outside
the page engine (a notebook, a script) a claim that does not hold raises
:class:`ClaimError` at once, like ``assert``.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["ClaimError", "claim", "format_value"]


class ClaimError(AssertionError):
    """A claim that did not hold."""


# Set by the page engine while it runs a page: receives every claim as a dict.
_recorder: Callable[[dict[str, Any]], None] | None = None


def format_value(value: Any) -> str:
    """Numbers with a sensible number of significant digits; anything else as ``str``."""
    if value is None:
        return ""
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        v = float(value)
        if v == 0 or 1e-3 <= abs(v) < 1e5:
            return f"{v:.4g}"
        return f"{v:.3g}"
    if isinstance(value, (tuple, list)):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def claim(
    statement: str,
    *,
    measured: Any,
    holds: bool,
    expected: Any = None,
    paper: Any = None,
) -> None:
    """Assert a page's claim and record it with its numbers.

    Args:
        statement: the claim in words, as the prose makes it.
        measured: the value the page computed (a number, or a short string such as "2.4x").
        holds: whether the measurement supports the statement (compute it, never hard-code).
        expected: the criterion or value the statement implies, e.g. ``"< 0.01"``.
        paper: for replicas, the original paper's number, shown beside the measured one.

    Raises:
        ClaimError: outside the page engine, when ``holds`` is false.
        TypeError: when ``holds`` is not a boolean (a tensor or array must be reduced first).
    """
    if hasattr(holds, "item") and getattr(holds, "ndim", 1) == 0:
        holds = holds.item()
    if not isinstance(holds, bool):
        raise TypeError(f"claim(holds=...) must be a bool, got {type(holds).__name__}")
    frame = sys._getframe(1)
    record = {
        "statement": statement,
        "measured": format_value(measured),
        "expected": format_value(expected),
        "paper": format_value(paper),
        "holds": holds,
        "file": frame.f_code.co_filename,
        "line": frame.f_lineno,
    }
    if _recorder is not None:
        _recorder(record)
        return
    mark = "holds" if holds else "DOES NOT HOLD"
    print(f"[claim {mark}] {statement}: measured {record['measured']}")
    if not holds:
        raise ClaimError(
            f"{statement}: measured {record['measured']}, expected {record['expected']}"
        )
