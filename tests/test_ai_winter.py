"""The history table, its Markdown and the label placement."""

import itertools
import re
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from nutshell.history.ai_winter import (
    EVENTS,
    KINDS,
    PAGES,
    WINTERS,
    Event,
    events_markdown,
    in_winter,
    label_positions,
)

DOCS = Path(__file__).resolve().parents[1] / "docs"
# every replica page that exists, read from docs/ (not a copy of the module's list)
PLANNED = {
    f"history/{md.stem}"
    for md in (DOCS / "history").glob("*.md")
    if md.stem not in ("index", "ai_winter")
}


def test_table_is_sorted_by_year():
    years = [e.year for e in EVENTS]
    assert years == sorted(years)


def test_pages_are_planned_pages():
    assert set(PAGES) == PLANNED
    for e in EVENTS:
        assert e.page is None or e.page in PLANNED
        assert e.kind in KINDS


def test_the_articles_milestones_are_there():
    by_page = {}
    for e in EVENTS:
        by_page.setdefault(e.page, []).append(e.year)
    assert 1965 in by_page["history/gmdh"]
    assert 2012 in by_page["history/alexnet"]
    assert 1969 in by_page["history/perceptron"]
    assert 1970 in by_page["history/reverse_mode"]
    # every planned replica page is reached from the table
    assert PLANNED <= set(by_page)
    assert any(e.page is None for e in EVENTS)


def test_winters():
    assert [(w.start, w.end) for w in WINTERS] == [(1974, 1980), (1987, 1993)]
    for w in WINTERS:
        assert w.start < w.end
    for a, b in itertools.pairwise(WINTERS):
        assert a.end < b.start
    assert in_winter(1979).label == "first AI winter"
    assert in_winter(1993).label == "second AI winter"
    assert in_winter(1969) is None and in_winter(2012) is None


LINK = re.compile(r"^\[([^\[\]]+)\]\(([^()\s]+)\)$")


@pytest.mark.parametrize("base", ["", "../history/", "history/"])
def test_events_markdown_links_are_well_formed(base):
    text = events_markdown(base)
    lines = text.strip().splitlines()
    assert lines[0] == "| Year | Event | Who |"
    assert re.fullmatch(r"\|-+:?\|-+\|-+\|", lines[1].replace("-:", "--:"))
    assert len(lines) == 2 + len(EVENTS)
    for line, event in zip(lines[2:], EVENTS):
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        assert len(cells) == 3, line
        assert cells[0] == str(event.year)
        assert cells[2] == event.who
        if event.page is None:
            assert "](" not in cells[1] and cells[1] == event.title
        else:
            match = LINK.match(cells[1])
            assert match, cells[1]
            assert match.group(1) == event.title
            assert match.group(2) == f"{base}{event.page.split('/')[1]}.md"


def test_default_links_resolve_from_the_history_index():
    # links are relative to docs/history/; pages written so far must exist there
    for match in re.finditer(r"\]\(([^)]+)\)", events_markdown()):
        target = DOCS / "history" / match.group(1)
        assert target.parent == DOCS / "history"
        assert target.suffix == ".md"
    for mine in ("perceptron", "gmdh", "reverse_mode"):
        assert (DOCS / "history" / f"{mine}.md").exists()


def test_markdown_escapes_pipes(monkeypatch):
    import nutshell.history.ai_winter as module

    odd = Event(2000, "a | b", "c | d", "history/gmdh", "method")
    monkeypatch.setattr(module, "EVENTS", (odd,))
    row = events_markdown().strip().splitlines()[-1]
    assert row == "| 2000 | [a \\| b](gmdh.md) | c \\| d |"


def test_event_is_frozen():
    with pytest.raises(FrozenInstanceError):
        EVENTS[0].year = 1900


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"year": 1800}, "year"),
        ({"year": 1965.0}, "year"),
        ({"title": " "}, "title"),
        ({"page": "history/ai_winter"}, "page"),
        ({"page": "gmdh"}, "page"),
        ({"kind": "hype"}, "kind"),
    ],
)
def test_invalid_event(kwargs, match):
    fields = {"year": 1965, "title": "t", "who": "w", "page": "history/gmdh", "kind": "network"}
    fields.update(kwargs)
    with pytest.raises(ValueError, match=match):
        Event(**fields)


def brute_force(values, gap):
    """The constrained least-squares optimum by a fine search (three values)."""
    best, best_cost = None, float("inf")
    steps = [i / 20 for i in range(-80, 81)]
    for d0 in steps:
        p0 = values[0] + d0
        for d1 in steps:
            p1 = values[1] + d1
            if p1 - p0 < gap - 1e-9:
                continue
            # the last position: as close as allowed
            p2 = max(values[2], p1 + gap)
            cost = (p0 - values[0]) ** 2 + (p1 - values[1]) ** 2 + (p2 - values[2]) ** 2
            if cost < best_cost:
                best, best_cost = [p0, p1, p2], cost
    return best, best_cost


@pytest.mark.parametrize(
    ("values", "gap"),
    [
        ([0.0, 0.0, 0.0], 1.0),
        ([0.0, 0.5, 3.0], 1.0),
        ([0.0, 1.0, 1.2], 1.0),
        ([1.0, 2.0, 3.0], 0.5),
    ],
)
def test_label_positions_optimal_and_spaced(values, gap):
    pos = label_positions(values, gap)
    assert all(b - a >= gap - 1e-12 for a, b in itertools.pairwise(pos))
    cost = sum((p - v) ** 2 for p, v in zip(pos, values))
    _, best_cost = brute_force(values, gap)
    assert cost <= best_cost + 1e-9


def test_label_positions_leave_spaced_values_alone():
    values = [1958.0, 1965.0, 1979.0]
    assert label_positions(values, 2.0) == values
    assert label_positions([], 1.0) == []
    # the event years of the page with a realistic gap
    pos = label_positions([float(e.year) for e in EVENTS], 2.1)
    assert all(b - a >= 2.1 - 1e-9 for a, b in itertools.pairwise(pos))
    # a pooled cluster stays centred on its years
    assert sum(label_positions([5.0, 5.0], 2.0)) == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("values", "gap", "match"),
    [([2.0, 1.0], 1.0, "sorted"), ([1.0, 2.0], -1.0, "gap")],
)
def test_label_positions_invalid(values, gap, match):
    with pytest.raises(ValueError, match=match):
        label_positions(values, gap)
