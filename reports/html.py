"""The report as one self-contained HTML page: inline style, plots embedded as base64 PNG, no external
resource (it opens offline, from a file or an e-mail attachment)."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Sequence
from datetime import date
from html import escape
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to PNG only
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

BLUE, RED, GREEN, GREY = "#000091", "#e1000f", "#18753c", "#929292"

STYLE = """
body { font-family: Marianne, Arial, sans-serif; color: #161616; max-width: 960px; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; }
h1 { color: #000091; } h2 { border-bottom: 2px solid #000091; padding-bottom: .2rem; margin-top: 2.5rem; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; }
.card { border: 1px solid #ddd; border-radius: 4px; padding: .6rem 1rem; min-width: 9rem; }
.card strong { display: block; font-size: 1.6rem; color: #000091; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { border: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; }
img { max-width: 100%; } .note { color: #555; font-size: .9rem; }
ul.questions { margin: 0; padding-left: 1.2rem; }
"""


def _png(draw: Callable[[Axes], None], height: float = 3.2) -> str:
    figure, axes = plt.subplots(figsize=(9, height))
    draw(axes)
    return _figure_png(figure)


def _figure_png(figure: Figure) -> str:
    try:
        for axes in figure.axes:
            axes.spines[["top", "right"]].set_visible(False)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    finally:
        plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _img(png: str, alt: str) -> str:
    return f'<img src="data:image/png;base64,{png}" alt="{escape(alt)}">'


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %".replace(".", ",")


def _period(period: dict[str, Any]) -> str:
    """"Du 24/11 au 30/11/2026, les 7 derniers jours": the year once when both days share it."""
    start, end = period["from"], period["to"]
    if not start or not end:
        return "Aucune période"
    if start[:4] == end[:4]:
        text = f"Du {_french_date(start)[:5]} au {_french_date(end)}"
    else:
        text = f"Du {_french_date(start)} au {_french_date(end)}"
    days = period.get("requested_days")
    return f"{text}, {'le dernier jour' if days == 1 else f'les {days} derniers jours'}" if days else text


def _french_date(iso_date: str | None) -> str:
    """"2024-05-06" -> "06/05/2024"."""
    return "–" if not iso_date else "/".join(reversed(iso_date.split("-")))


MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
# Up to this many days, every day is labelled; up to WEEKS_UP_TO, every Monday; beyond, every month.
DAYS_UP_TO = 14
WEEKS_UP_TO = 92


def _month_label(value: float, _: object) -> str:
    day = mdates.num2date(value)
    return f"{MONTHS[day.month - 1]} {day.year}"


def date_axis(axes: Axes, days: Sequence[date]) -> None:
    """Readable date labels whatever the span: days, weeks (their Monday) or months, never a black band."""
    span = (days[-1] - days[0]).days + 1 if days else 0
    if span <= DAYS_UP_TO:
        axes.xaxis.set_major_locator(mdates.DayLocator())
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m"))
    elif span <= WEEKS_UP_TO:
        axes.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO))
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m"))
        axes.xaxis.set_minor_locator(mdates.DayLocator())
        axes.set_xlabel("semaines (le lundi)")
    else:
        axes.xaxis.set_major_locator(mdates.MonthLocator())
        axes.xaxis.set_major_formatter(FuncFormatter(_month_label))
        axes.xaxis.set_minor_locator(mdates.WeekdayLocator(byweekday=mdates.MO))
    if days:  # half a day of margin: the first and last bars are whole
        axes.set_xlim(mdates.date2num(days[0]) - 0.5, mdates.date2num(days[-1]) + 0.5)
    axes.tick_params(axis="x", labelsize=8)


def _days(per_day: Sequence[dict[str, Any]]) -> list[date]:
    return [date.fromisoformat(row["date"]) for row in per_day]


def activity_figure(per_day: Sequence[dict[str, Any]]) -> Figure:
    figure, axes = plt.subplots(figsize=(9, 3.2))
    days = _days(per_day)
    axes.bar(days, [row["conversations"] for row in per_day], color=BLUE, label="conversations")
    marker = "o" if len(days) <= 31 else None
    messages = [row["user_messages"] for row in per_day]
    axes.plot(days, messages, color=RED, marker=marker, label="messages reçus")
    date_axis(axes, days)
    axes.set_ylabel("par jour")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(frameon=False)
    return figure


def rates_figure(per_day: Sequence[dict[str, Any]]) -> Figure:
    """Days without typed messages have no rate: NaN, so the line stops there instead of crossing them."""
    figure, axes = plt.subplots(figsize=(9, 3.2))
    days = _days(per_day)
    for key, color, label in (
        ("fallback_rate", RED, "sans réponse (secours)"),
        ("out_of_scope_rate", GREY, "hors sujet"),
    ):
        values = [math.nan if row[key] is None else row[key] * 100 for row in per_day]
        # Markers: a day between two quiet days still shows, as a dot.
        axes.plot(days, values, color=color, marker="o", markersize=3, label=label)
    date_axis(axes, days)
    axes.set_ylabel("% des messages écrits")
    axes.set_ylim(0, 100)
    axes.legend(frameon=False)
    return figure


def plot_topics(topics: Sequence[dict[str, Any]], limit: int = 12) -> str:
    rows = [row for row in topics if row["answers"]][:limit][::-1]

    def draw(axes: Axes) -> None:
        axes.barh([row["label"] for row in rows], [row["answers"] for row in rows], color=BLUE)
        axes.set_xlabel("réponses données")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))

    return _png(draw, height=0.8 + 0.35 * len(rows))


def plot_feedback(topics: Sequence[dict[str, Any]]) -> str:
    rows = [row for row in topics if row["positive"] or row["negative"]][::-1]

    def draw(axes: Axes) -> None:
        labels = [row["label"] for row in rows]
        positive = [row["positive"] for row in rows]
        axes.barh(labels, positive, color=GREEN, label="utile")
        axes.barh(labels, [row["negative"] for row in rows], left=positive, color=RED, label="pas utile")
        axes.set_xlabel("avis reçus")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(frameon=False)

    return _png(draw, height=0.8 + 0.35 * len(rows))


def plot_channels(channels: Sequence[dict[str, Any]]) -> str:
    rows = list(channels)[::-1]

    def draw(axes: Axes) -> None:
        axes.barh([row["label"] for row in rows], [row["conversations"] for row in rows], color=BLUE)
        axes.set_xlabel("conversations")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))

    return _png(draw, height=0.8 + 0.4 * len(rows))


def plot_lengths(lengths: dict[str, int], median: float | None) -> str:
    def draw(axes: Axes) -> None:
        axes.bar([int(n) for n in lengths], list(lengths.values()), color=BLUE)
        if median is not None:
            axes.axvline(median, color=RED, linestyle="--", label=f"médiane : {median:g}")
            axes.legend(frameon=False)
        axes.set_xlabel("messages de la personne dans la conversation")
        axes.set_ylabel("conversations")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))

    return _png(draw)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[bool]) -> str:
    def cells(tag: str, row: Sequence[Any]) -> str:
        return "".join(
            f'<{tag}{" class=n" if n else ""}>{cell}</{tag}>' for cell, n in zip(row, numeric, strict=True)
        )

    head = cells("th", [escape(h) for h in headers])
    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cards(totals: dict[str, Any]) -> str:
    median = totals["median_conversation_length"]
    cards = [
        (totals["conversations"], "conversations"),
        (totals["senders"], "personnes"),
        (totals["user_messages"], "messages reçus"),
        (_percent(totals["fallback_rate"]), "sans réponse (secours)"),
        (_percent(totals["out_of_scope_rate"]), "hors sujet"),
        ("–" if median is None else f"{median:g}".replace(".", ","), "messages par conversation (médiane)"),
        (f"{totals['feedback_positive']} / {totals['feedback_negative']}", "avis utile / pas utile"),
    ]
    items = "".join(
        f'<div class="card"><strong>{escape(str(value))}</strong>{escape(label)}</div>'
        for value, label in cards
    )
    return f'<div class="cards">{items}</div>'


def _unanswered(unanswered: dict[str, Any]) -> str:
    groups = unanswered["groups"]
    if not groups:
        return "<p>Aucune question sans réponse sur la période.</p>"
    rows = []
    for number, group in enumerate(groups, start=1):
        guess = group["guessed_topic"]
        rows.append(
            (
                number,
                group["count"],
                group["conversations"],
                group["people"],
                escape(f"{guess['label']} ({guess['confidence']:.2f})") if guess else "–",
                _questions(group),
            )
        )
    return _table(
        ["groupe", "messages", "conversations", "personnes", "sujet deviné (confiance)", "questions"],
        rows,
        [True, True, True, True, False, False],
    )


REASON_LABELS = {
    "low_confidence": "confiance basse",
    "feedback_negative": "👎",
    "rephrased": "reformulée",
    "denied": "« non »",
}


def _wrong_answers(wrong: dict[str, Any]) -> str:
    groups = wrong["groups"]
    if not groups:
        return "<p>Aucune réponse probablement fausse sur la période.</p>"
    rows = []
    for number, group in enumerate(groups, start=1):
        topic = group["answered_topic"]
        reasons = ", ".join(f"{REASON_LABELS[name]} : {count}" for name, count in group["reasons"].items())
        rows.append(
            (
                number,
                group["count"],
                group["conversations"],
                group["people"],
                escape(f"{topic['label']} ({topic['confidence']:.2f})"),
                escape(reasons),
                _questions(group),
            )
        )
    return _table(
        ["groupe", "messages", "conversations", "personnes", "sujet répondu (confiance)", "signes",
         "questions"],
        rows,
        [True, True, True, True, False, False, False],
    )


def _questions(group: dict[str, Any]) -> str:
    items = "".join(
        f"<li>{escape(q['text'])}{'' if q['count'] == 1 else ' (×' + str(q['count']) + ')'}</li>"
        for q in group["questions"]
    )
    return f'<ul class="questions">{items}</ul>'


def page(report: dict[str, Any]) -> str:
    """The HTML report of report.json's content."""
    totals, per_day, topics = report["totals"], report["per_day"], report["topics"]
    wrong = report["wrong_answers"]
    if not totals["conversations"]:
        body = "<p>Aucune conversation enregistrée sur la période.</p>"
    else:
        topic_rows = [
            (escape(row["label"]), row["answers"], row["positive"], row["negative"]) for row in topics
        ]
        channel_rows = [
            (escape(row["label"]), row["conversations"], row["user_messages"]) for row in report["channels"]
        ]
        feedback = (
            _img(plot_feedback(topics), "avis par sujet")
            if totals["feedback_positive"] or totals["feedback_negative"]
            else "<p>Aucun avis sur la période.</p>"
        )
        answered = (
            _img(plot_topics(topics), "sujets les plus demandés") if any(r["answers"] for r in topics) else ""
        )
        body = f"""
{_cards(totals)}
<h2>Conversations et messages par jour</h2>
{_img(_figure_png(activity_figure(per_day)), "conversations et messages par jour")}
<h2>Questions sans réponse et hors sujet, par jour</h2>
<p class="note">Part des messages écrits (les clics sur un bouton sont toujours compris) qui ont déclenché la
réponse de secours, ou que l'assistant a reconnus comme hors de son sujet.</p>
{_img(_figure_png(rates_figure(per_day)), "taux de secours et de hors sujet par jour")}
<h2>Sujets les plus demandés</h2>
{answered}
<h2>Avis par sujet</h2>
<p class="note">Après chaque réponse, l'assistant propose 👍 (utile) et 👎 (pas utile).</p>
{feedback}
{_table(["sujet", "réponses", "utile", "pas utile"], topic_rows, [False, True, True, True])}
<h2>Canaux</h2>
{_img(plot_channels(report["channels"]), "conversations par canal")}
{_table(["canal", "conversations", "messages reçus"], channel_rows, [False, True, True])}
<h2>Longueur des conversations</h2>
{_img(plot_lengths(report["conversation_lengths"], totals["median_conversation_length"]),
      "longueur des conversations")}
<h2>Questions sans réponse</h2>
<p class="note">Messages regroupés par ressemblance. Ils sont dans <code>results/report/unanswered.yml</code>,
prêts à être étiquetés puis ajoutés à <code>data/nlu/</code>
({report["unanswered"]["already_in_training_data"]} messages déjà présents dans <code>data/nlu/</code>
ne sont pas repris).</p>
{_unanswered(report["unanswered"])}
<h2>Réponses probablement fausses</h2>
<p class="note">Questions écrites auxquelles l'assistant a répondu par un sujet, avec un signe qu'il s'est
trompé : il a choisi ce sujet avec une confiance basse (moins de {_percent(wrong["low_confidence_below"])}),
la personne a donné 👎 juste après, a reposé une question moins de {wrong["rephrase_within_seconds"]} secondes
après la sienne (sur un sujet, le même ou un autre, ou qui a déclenché la réponse de secours), ou a répondu
« non », « pas ça »… Elles sont dans <code>results/report/wrong_answers.yml</code>, à étiqueter avec le sujet
qui aurait dû répondre, comme les questions sans réponse.</p>
{_wrong_answers(wrong)}
"""
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>Bienvenue — rapport des conversations</title>
<style>{STYLE}</style>
</head>
<body>
<h1>Bienvenue — rapport des conversations</h1>
<p>{_period(report["period"])} (heure de {escape(report["timezone"])}).
Rapport produit le {_french_date(report["generated_at"][:10])} à {escape(report["generated_at"][11:16])}.</p>
{body}
<h2>Confidentialité</h2>
<p class="note">Ce rapport ne montre aucun identifiant de conversation ni aucune donnée personnelle : les
identifiants sont remplacés par des pseudonymes, un par personne et un par conversation (report.json), et
les adresses e-mail et numéros de téléphone sont masqués dans les messages cités.</p>
<p class="note">Une conversation est une suite de messages d'une même personne sans pause de plus d'une
heure : une personne qui revient un autre jour commence une nouvelle conversation. Chaque conversation est
conservée {report["retention_days"]} jours après son dernier message, puis supprimée par
<code>make purge</code>, même si la personne est revenue depuis.</p>
</body>
</html>
"""
