"""python -m reports {report,purge,unanswered-check}: the Makefile targets of the same names."""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

import settings
from reports import check, privacy, store
from reports.conversations import conversations
from reports.report import DEFAULT_OUT_DIR, DEFAULT_TIMEZONE, build_report, topic_labels, write_report
from reports.unanswered import counted, known_examples, nlu_questions


def _engine(args: argparse.Namespace) -> Engine:
    url = make_url(args.db_url) if args.db_url else store.url_from_endpoints(args.endpoints, os.environ)
    print(f"Conversations : {url.render_as_string(hide_password=True)}")
    return store.open_store(url)


def run_report(args: argparse.Namespace) -> None:
    now = time.time()
    try:
        found = conversations(store.read_events(_engine(args)))
    except (store.MissingStoreError, OperationalError) as error:
        reason = str(error.orig).strip() if isinstance(error, OperationalError) else str(error)
        sys.exit(f"Erreur : {reason}. Le rapport précédent ({args.out}/) est conservé.")
    labels = topic_labels()
    report = build_report(
        found,
        key=privacy.pseudonym_key(os.environ),
        labels=labels,
        known_examples=known_examples(args.nlu_dir),
        tz=ZoneInfo(args.timezone),
        generated_at=datetime.fromtimestamp(now, timezone.utc),
        retention_days=privacy.retention_days(os.environ),
        days=args.days,
    )
    paths = write_report(report, labels, args.out)
    totals = report.content["totals"]
    unanswered = counted(report.content["unanswered"]["messages"], "question")
    wrong_count = report.content["wrong_answers"]["messages"]
    wrong = f"{counted(wrong_count, 'réponse')} probablement fausse{'s' if wrong_count > 1 else ''}"
    print(
        f"{counted(totals['conversations'], 'conversation')}, {counted(totals['user_messages'], 'message')}, "
        f"{unanswered} sans réponse en {counted(len(report.unanswered), 'groupe')}, "
        f"{wrong} en {counted(len(report.wrong), 'groupe')}."
    )
    for path in paths.values():
        print(f"  {path}")


def run_purge(args: argparse.Namespace) -> None:
    days = privacy.retention_days(os.environ)
    cutoff = privacy.retention_cutoff(time.time(), days)
    try:
        engine = _engine(args)
    except store.MissingStoreError as error:
        sys.exit(f"Erreur : {error}. Rien n'a été supprimé.")
    result = store.purge(engine, cutoff)
    limit = datetime.fromtimestamp(cutoff).astimezone().strftime("%d/%m/%Y %H:%M")
    print(
        f"{counted(result.conversations, 'conversation')} supprimée{'s' if result.conversations > 1 else ''}"
        f" ({counted(result.events, 'événement')}) : "
        f"dernier message avant le {limit}, durée de conservation {days} jours."
    )


def run_check(args: argparse.Namespace) -> None:
    if not args.file.exists():
        sys.exit(f"{args.file} n'existe pas : lancez d'abord `make report`.")
    pairs = nlu_questions(args.file.read_text(encoding="utf-8"))
    if not pairs:
        print(f"Aucune question dans {args.file}.")
        return
    try:
        originals = check.stored_texts(conversations(store.read_events(_engine(args))))
    except (store.MissingStoreError, OperationalError) as error:
        reason = str(error.orig).strip() if isinstance(error, OperationalError) else str(error)
        print(f"Attention : {reason} ; les questions sont classées telles qu'écrites dans {args.file}.")
        originals = {}
    stored = sum(question in originals for _, question in pairs)
    print(
        f"{stored} question{'s' if stored > 1 else ''} sur {len(pairs)} retrouvée{'s' if stored > 1 else ''}"
        " dans la base : classées sur le message tel qu'il a été écrit, affichées masquées."
    )
    model = check.latest_model(args.models)
    print(f"Modèle : {model} (chargement, environ une minute)")
    parse = check.model_parser(model)
    print(check.describe(check.check_questions(pairs, parse, topic_labels().keys(), originals)))


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m reports", description=__doc__)
    commands = main.add_subparsers(dest="command", required=True)
    source = argparse.ArgumentParser(add_help=False)
    source.add_argument(
        "--endpoints", type=Path, default=Path("endpoints.yml"),
        help="endpoints file whose tracker_store to read (endpoints.production.yml: PostgreSQL)",
    )
    source.add_argument("--db-url", help="SQLAlchemy URL of the tracker store, instead of --endpoints")

    report = commands.add_parser("report", parents=[source], help="write results/report/")
    report.add_argument(
        "--days", type=settings.positive_int, help="only the conversations started in the last DAYS days"
    )
    report.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR)
    report.add_argument("--timezone", default=DEFAULT_TIMEZONE)
    report.add_argument("--nlu-dir", type=Path, default=Path("data/nlu"))
    report.set_defaults(run=run_report)

    purge = commands.add_parser(
        "purge", parents=[source], help=f"delete conversations older than ${privacy.RETENTION_ENV} days"
    )
    purge.set_defaults(run=run_purge)

    unanswered = commands.add_parser(
        "unanswered-check", parents=[source], help="the current model on unanswered questions"
    )
    unanswered.add_argument("--file", type=Path, default=DEFAULT_OUT_DIR / "unanswered.yml")
    unanswered.add_argument("--models", type=Path, default=Path("models"))
    unanswered.set_defaults(run=run_check)
    return main


def main() -> None:
    # Libraries' deprecation notices (TensorFlow, SQLAlchemy, pyparsing…) say nothing to the content team.
    warnings.simplefilter("ignore", DeprecationWarning)
    args = parser().parse_args()
    try:
        args.run(args)
    except (ValueError, FileNotFoundError) as error:  # a bad setting, a missing file: no traceback needed
        sys.exit(f"Erreur : {error}")
    except OperationalError as error:
        sys.exit(f"Erreur : base des conversations injoignable : {str(error.orig).strip()}")


if __name__ == "__main__":
    main()
