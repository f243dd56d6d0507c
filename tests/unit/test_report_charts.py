"""The per-day charts, checked through their data and axis ticks: readable date labels whatever the span
(days, weeks or months, never piled up) and rates that leave days without messages as gaps."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from reports import figures
from reports.conversations import conversations
from reports.html import activity_figure, rates_figure
from reports.store import StoredEvent
from tests.unit.report_data import PARIS

FIRST_DAY = date(2024, 1, 15)


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def per_day(active_days: list[int]) -> list[dict[str, Any]]:
    """Figures of a store where one person asks something on each of `active_days` (offsets from FIRST_DAY);
    every third question gets the fallback."""
    events = []
    for number, offset in enumerate(active_days):
        day = FIRST_DAY + timedelta(days=offset)
        t = datetime.combine(day, datetime.min.time(), PARIS).timestamp() + 36_000  # 10:00
        sender = f"person-{number}"
        parse_data = {"intent": {"name": "nlu_fallback" if number % 3 == 0 else "ask_funding"}}
        events += [
            StoredEvent(sender, "session_started", t, {}),
            StoredEvent(sender, "user", t + 1, {"text": "question", "parse_data": parse_data}),
            StoredEvent(sender, "action", t + 2, {"name": "action_listen"}),
        ]
    return figures.per_day(conversations(events), PARIS)


def tick_labels(figure: Figure) -> list[tuple[date, str]]:
    """The labelled major ticks of the date axis: their day and their text."""
    figure.canvas.draw()
    axes = figure.axes[0]
    ticks = [mdates.num2date(value).date() for value in axes.get_xticks()]
    return [(day, label.get_text()) for day, label in zip(ticks, axes.get_xticklabels(), strict=True)]


def test_four_months_are_labelled_by_month_without_overlap() -> None:
    rows = per_day([0, 1, 2, 30, 31, 60, 61, 62, 90, 119])
    assert len(rows) == 120
    for figure in (activity_figure(rows), rates_figure(rows)):
        labels = tick_labels(figure)
        assert [text for _, text in labels] == ["févr. 2024", "mars 2024", "avr. 2024", "mai 2024"]
        assert all(day.day == 1 for day, _ in labels)
        renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
        boxes = [label.get_window_extent(renderer) for label in figure.axes[0].get_xticklabels()]
        assert all(left.x1 < right.x0 for left, right in itertools.pairwise(boxes)), "labels overlap"


def test_six_weeks_are_labelled_by_their_mondays() -> None:
    labels = tick_labels(activity_figure(per_day([0, 41])))  # Monday 15 January to Sunday 25 February
    assert [day for day, _ in labels] == [FIRST_DAY + timedelta(weeks=week) for week in range(6)]
    assert labels[0][1] == "15/01" and labels[-1][1] == "19/02"


def test_a_fortnight_labels_every_day() -> None:
    labels = tick_labels(activity_figure(per_day([0, 9])))
    assert [text for _, text in labels] == [f"{15 + offset}/01" for offset in range(10)]


def test_the_rate_lines_stop_on_days_without_messages() -> None:
    rows = per_day([0, 1, 5, 6])
    fallback, out_of_scope = rates_figure(rows).axes[0].get_lines()
    rates = fallback.get_ydata()
    assert len(rates) == len(rows) == 7  # one point per day, quiet ones included
    assert [math.isnan(value) for value in rates] == [False, False, True, True, True, False, False]
    assert [rates[index] for index in (0, 1, 5, 6)] == [100.0, 0.0, 0.0, 100.0]
    assert math.isnan(out_of_scope.get_ydata()[3])
    # The messages per day, on the other hand, are zero on quiet days: nothing happened.
    messages = activity_figure(rows).axes[0].get_lines()[0].get_ydata()
    assert list(messages) == [1, 1, 0, 0, 0, 1, 1]


@pytest.mark.parametrize("active_days", [[0], [0, 200]])
def test_one_day_or_seven_months_still_draw(active_days: list[int]) -> None:
    labels = tick_labels(rates_figure(per_day(active_days)))
    assert labels and all(text for _, text in labels)
