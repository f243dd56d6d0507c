"""`make bench`: Bienvenue's configuration against Rasa's default one, side by side on this machine.

Same training data and domain for both; Rasa's default is the config.yml that `rasa init` writes (copied to
bench/config.default.yml). Trained models are reused (Bienvenue's from models/, kept up to date by
scripts/train.sh; the default's in results/bench/models/, retrained when data, domain or its config change):
`--retrain` trains both from scratch and measures the trainings too. Measured for each: load time (and
where it goes: imports, spaCy, DIET, the rest), memory, held-out accuracy, latency, throughput and CPU per
message at 1, 10 and 50 simultaneous conversations, and the cost of a message as a conversation grows to
200 turns. Also: a floor (the same messages sent as payloads such as "/greet", which skip NLU, on
Bienvenue's server), and with `--scale` one Rasa instance against two behind nginx sharing PostgreSQL and
Redis (production profile).
Writes results/bench/bench.json and results/bench/bench.png, and prints the figures with their ratios.

Figures, not a test: nothing fails on time. Other developers may share the machine: the load average is
recorded at each phase so that a noisy run can be recognised.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime
import fcntl
import json
import os
import platform
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import requests

from bench import load, plot
from testbed import servers, stores

REPO = servers.REPO
OUT = REPO / "results" / "bench"
CONFIGS = {"bienvenue": REPO / "config.yml", "default": REPO / "bench" / "config.default.yml"}
# Each configuration with its tracker store: Bienvenue's caching one, Rasa's own for the default.
ENDPOINTS = {"bienvenue": REPO / "endpoints.yml", "default": REPO / "bench" / "endpoints.default.yml"}
HOLDOUT = REPO / "tests" / "nlu_holdout"
TRAIN_LOCK = Path("/tmp/bienvenue-train.lock")
# Concurrent conversations -> messages each: a fixed number of messages per level keeps the run bounded.
LEVELS = {1: 60, 10: 15, 50: 5}
# Each level is run this many times per configuration, the configurations taking turns.
ROUNDS = 2
SCALE_LEVELS = {10: 15, 50: 5}
WARM_UP_MESSAGES = 5
# Growth with conversation length: one conversation, the cost of the messages sent after this many turns.
GROWTH_AT = (10, 50, 100, 200)
GROWTH_WINDOW = 15
# The "one-line data change" for the cached retraining: one more NLU example, the most common edit.
DATA_CHANGE = 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - bonjour depuis le banc d\'essai\n'
# What the issue asks of Bienvenue against the default configuration (reported, never enforced).
TARGETS = {
    "throughput_x": ">= 2",
    "p95_at_10_fraction": "<= 0.5",
    "load_time_fraction": "<= 0.33",
    "accuracy_delta": ">= 0",
}
SUBPROCESS_ENV = {"RASA_TELEMETRY_ENABLED": "false"}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def machine_info() -> dict:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    rasa_version = subprocess.run(
        [str(servers.VENV_BIN / "python"), "-c", "import importlib.metadata as m; print(m.version('rasa'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_gb, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "rasa": rasa_version,
        "load_average_at_start": load_average(),
    }


def import_time() -> float:
    """Seconds to import Rasa, TensorFlow and spaCy in a fresh Python: the part of every model load that no
    configuration can save (the floor of the load time)."""
    started = time.perf_counter()
    subprocess.run(
        [str(servers.VENV_BIN / "python"), "-c", "import rasa.core.agent, rasa.server, tensorflow, spacy"],
        check=True,
        capture_output=True,
    )
    return round(time.perf_counter() - started, 1)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used by the Rasa server and the action server between start() and per_message()."""

    def __init__(self, *pids: int) -> None:
        self.pids = pids
        self.start()

    def start(self) -> None:
        self.started = [cpu_seconds(pid) for pid in self.pids]

    def per_message_ms(self, messages: int) -> list[float]:
        used = [cpu_seconds(pid) - before for pid, before in zip(self.pids, self.started, strict=True)]
        return [round(1000 * seconds / max(messages, 1), 1) for seconds in used]


def memory_mb(pid: int) -> dict[str, float]:
    """Resident memory now (VmRSS) and at its peak (VmHWM) of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields["VmRSS"], "peak_rss_mb": fields["VmHWM"]}


@contextlib.contextmanager
def training_lock() -> Iterator[None]:
    """The machine-wide training lock (the same one as `flock /tmp/bienvenue-train.lock`)."""
    with TRAIN_LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def train(config: Path, data: Path, out: Path, name: str, cache: Path) -> float:
    """Trains a model into out/<name>.tar.gz with its own cache directory; returns the training time."""
    log_path = servers.LOG_DIR / f"bench-train-{name}.log"
    servers.LOG_DIR.mkdir(parents=True, exist_ok=True)
    command = [
        str(servers.VENV_BIN / "rasa"),
        "train",
        "--config",
        str(config),
        "--domain",
        str(REPO / "domain.yml"),
        "--data",
        str(data),
        "--out",
        str(out),
        "--fixed-model-name",
        name,
    ]
    with training_lock(), log_path.open("ab") as training_log:
        log(f"training {name} (load average {load_average()})")
        started = time.perf_counter()
        subprocess.run(
            command,
            cwd=REPO,
            stdout=training_log,
            stderr=subprocess.STDOUT,
            check=True,
            env={**os.environ, **SUBPROCESS_ENV, "RASA_CACHE_DIRECTORY": str(cache)},
        )
        seconds = time.perf_counter() - started
    log(f"trained {name} in {seconds:.1f} s")
    return round(seconds, 1)


def is_stale(model: Path, *sources: Path) -> bool:
    if not model.is_file():
        return True
    built = model.stat().st_mtime
    return any(
        path.stat().st_mtime > built
        for source in sources
        for path in [source, *source.rglob("*")]
        if path.is_file()
    )


def reuse_models() -> dict[str, Path]:
    """Bienvenue's model from models/ (scripts/train.sh retrains it when stale); the default's from
    results/bench/models/, retrained (own Rasa cache) only when data, domain or its config changed."""
    subprocess.run(
        [str(REPO / "scripts" / "train.sh")], cwd=REPO, check=True, env={**os.environ, **SUBPROCESS_ENV}
    )
    default = OUT / "models" / "default.tar.gz"
    if is_stale(default, REPO / "data", REPO / "domain.yml", CONFIGS["default"]):
        train(CONFIGS["default"], REPO / "data", default.parent, "default", OUT / "cache-default")
    return {"bienvenue": servers.latest_model(), "default": default}


def train_all(workspace: Path, models: Path) -> dict:
    """Per configuration: a cold training (empty cache), then one after adding an NLU example (warm cache)."""
    base = workspace / "data"
    shutil.copytree(REPO / "data", base)
    changed = workspace / "data-changed"
    shutil.copytree(base, changed)
    (changed / "bench_change.yml").write_text(DATA_CHANGE, encoding="utf-8")
    timings = {}
    for name, config in CONFIGS.items():
        cache = workspace / f"cache-{name}"
        timings[name] = {
            "cold_s": train(config, base, models, name, cache),
            "one_example_added_s": train(config, changed, workspace / "changed", f"{name}-changed", cache),
        }
    return timings


class Pools(NamedTuple):
    texts: list[str]
    payloads: list[str]


def message_pools(examples: list[tuple[str, str]]) -> Pools:
    """The held-out messages in a fixed shuffled order (every run sends the same ones), and the same
    messages as payloads of their intents: the floor follows the same dialogue paths without NLU."""
    order = list(range(len(examples)))
    random.Random(0).shuffle(order)
    return Pools(
        texts=[examples[index][0] for index in order], payloads=[f"/{examples[index][1]}" for index in order]
    )


def holdout_examples() -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(HOLDOUT), language="fr")
    return [(example.get("text"), example.get("intent")) for example in data.intent_examples]


def intent_accuracy(base_url: str, token: str, examples: list[tuple[str, str]]) -> dict:
    """Accuracy on the held-out examples, counted like `rasa test nlu` (a fallback counts as the intent ranked
    first below it), and the share answered with the right intent outright (a fallback counts as a miss)."""
    as_rasa_test = outright = 0
    parse_ms = []
    for text, intent in examples:
        started = time.perf_counter()
        reply = requests.post(
            f"{base_url}/model/parse",
            params={"token": token},
            json={"text": text},
            timeout=load.REQUEST_TIMEOUT_S,
        )
        parse_ms.append((time.perf_counter() - started) * 1000)
        reply.raise_for_status()
        parsed = reply.json()
        predicted = parsed["intent"]["name"]
        outright += predicted == intent
        if predicted == "nlu_fallback":
            ranking = [
                entry["name"] for entry in parsed.get("intent_ranking", []) if entry["name"] != predicted
            ]
            predicted = ranking[0] if ranking else predicted
        as_rasa_test += predicted == intent
    total = len(examples)
    return {
        "examples": total,
        "accuracy": round(as_rasa_test / total, 4),
        "accuracy_fallback_as_miss": round(outright / total, 4),
        # NLU alone, one request at a time: the share of a message's latency spent understanding it.
        "nlu_parse_p50_ms": round(float(np.percentile(parse_ms, 50)), 1),
        "nlu_parse_p95_ms": round(float(np.percentile(parse_ms, 95)), 1),
    }


def rasa_instance(name: str, model: Path, endpoints: Path, env: dict[str, str], token: str) -> servers.Server:
    port = servers.free_port()
    return servers.Server(
        name=f"bench-{name}",
        command=[
            str(servers.VENV_BIN / "rasa"),
            "run",
            "--model",
            str(model),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(REPO / "credentials.yml"),
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--enable-api",
            "--auth-token",
            token,
        ],
        ready_url=f"http://127.0.0.1:{port}/",
        env={**SUBPROCESS_ENV, **env},
    )


def run_levels(
    base_url: str, pool: list[str], levels: dict[int, int], prefix: str, cpu: CpuMeter | None = None
) -> dict:
    results = {}
    for concurrency, turns in levels.items():
        before = load_average()
        if cpu:
            cpu.start()
        level = load.run_level(base_url, pool, concurrency, turns, f"{prefix}-c{concurrency}").summary()
        level["load_average_before"] = before
        if cpu:
            level["cpu_ms_per_msg_rasa"], level["cpu_ms_per_msg_actions"] = cpu.per_message_ms(
                level["messages"]
            )
        results[str(concurrency)] = level
        log(
            f"{prefix} @{concurrency}: p50 {level['p50_ms']} ms, p95 {level['p95_ms']} ms, "
            f"{level['throughput_msg_s']} msg/s, CPU {level.get('cpu_ms_per_msg_rasa')} ms/msg, "
            f"{level['errors']} errors"
        )
    return results


def growth(base_url: str, pool: list[str], cpu: CpuMeter, prefix: str) -> dict:
    """One conversation grown to max(GROWTH_AT) + GROWTH_WINDOW turns, one message at a time: the latency and
    CPU per message of the GROWTH_WINDOW messages sent after each number of prior turns in GROWTH_AT."""
    sender, results = f"{prefix}-growth", {}
    sent = 0
    with requests.Session() as session:
        for prior in GROWTH_AT:
            while sent < prior:
                load.send(session, base_url, sender, pool[sent % len(pool)])
                sent += 1
            latencies = []
            cpu.start()
            for _ in range(GROWTH_WINDOW):
                latencies.append(load.send(session, base_url, sender, pool[sent % len(pool)]))
                sent += 1
            rasa_ms, actions_ms = cpu.per_message_ms(GROWTH_WINDOW)
            results[str(prior)] = {
                "latency_p50_ms": round(float(np.percentile(latencies, 50)), 1),
                "latency_mean_ms": round(float(np.mean(latencies)), 1),
                "cpu_ms_per_msg_rasa": rasa_ms,
                "cpu_ms_per_msg_actions": actions_ms,
            }
            log(f"{prefix} after {prior} turns: {results[str(prior)]}")
    return results


def startup_parts(model: Path, load_s: float) -> dict:
    """Imports, each component's load (in a fresh Python) and the server's own part of the load time."""
    reply = subprocess.run(
        [str(servers.VENV_BIN / "python"), "-m", "bench.startup", str(model)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **SUBPROCESS_ENV},
    )
    parts = json.loads(reply.stdout.strip().splitlines()[-1])
    components = parts["components_s"]
    spacy_s = sum(seconds for name, seconds in components.items() if name.startswith("Spacy"))
    diet_s = components.get("DIETClassifier", 0.0)
    return {
        "imports_s": parts["imports_s"],
        "spacy_s": round(spacy_s, 1),
        "diet_s": round(diet_s, 1),
        "other_components_s": round(parts["agent_load_s"] - spacy_s - diet_s, 1),
        "server_s": round(max(load_s - parts["imports_s"] - parts["agent_load_s"], 0.0), 1),
        "components_s": components,
    }


def start_config(
    name: str, model: Path, actions: servers.Server, workspace: Path, stack: contextlib.ExitStack
) -> tuple[servers.Server, str, dict]:
    """Starts one configuration's server (alone, so that its load time is its own); returns it, its API
    token and its first figures (load time, memory after load)."""
    token = secrets.token_hex(16)
    action_url = actions.webhook_url
    env = {"ACTION_SERVER_URL": action_url, "BIENVENUE_TRACKER_DB": str(workspace / f"{name}.db")}
    server = rasa_instance(name, model, ENDPOINTS[name], env, token)
    log(f"starting the {name} server (load average {load_average()})")
    started = time.perf_counter()
    stack.enter_context(servers.running(server))
    assert server.process is not None
    figures: dict = {
        "load_s": round(time.perf_counter() - started, 1),
        "memory_after_load": memory_mb(server.process.pid),
    }
    log(f"{name}: ready in {figures['load_s']} s, {figures['memory_after_load']['rss_mb']} MB")
    return server, token, figures


def interleaved_levels(urls: dict[str, str], meters: dict[str, CpuMeter], pool: list[str]) -> dict[str, dict]:
    """Every level ROUNDS times per configuration, alternating configurations (A B, then B A, ...): on a
    shared machine, both then meet the same background load. Latencies are pooled, throughput and CPU per
    message computed over all the rounds."""
    results: dict[str, dict] = {name: {} for name in urls}
    for concurrency, turns in LEVELS.items():
        runs: dict[str, list[load.LevelResult]] = {name: [] for name in urls}
        cpu_ms: dict[str, list[float]] = {name: [0.0, 0.0] for name in urls}
        before = load_average()
        for round_number in range(ROUNDS):
            order = list(urls) if round_number % 2 == 0 else list(reversed(urls))
            for name in order:
                meters[name].start()
                prefix = f"{name}-c{concurrency}-r{round_number}"
                runs[name].append(load.run_level(urls[name], pool, concurrency, turns, prefix))
                used = meters[name].per_message_ms(1)
                cpu_ms[name] = [total + part for total, part in zip(cpu_ms[name], used, strict=True)]
        for name in urls:
            pooled = load.LevelResult(concurrency=concurrency)
            for run in runs[name]:
                pooled.latencies_ms += run.latencies_ms
                pooled.errors += run.errors
                pooled.wall_s += run.wall_s
            level = pooled.summary()
            level["load_average_before"] = before
            messages = max(level["messages"], 1)
            level["cpu_ms_per_msg_rasa"], level["cpu_ms_per_msg_actions"] = (
                round(total / messages, 1) for total in cpu_ms[name]
            )
            results[name][str(concurrency)] = level
            log(
                f"{name} @{concurrency}: p50 {level['p50_ms']} ms, p95 {level['p95_ms']} ms, "
                f"{level['throughput_msg_s']} msg/s, CPU {level['cpu_ms_per_msg_rasa']} ms/msg, "
                f"{level['errors']} errors"
            )
    return results


def measure_configs(
    models: dict[str, Path],
    actions: servers.Server,
    workspace: Path,
    examples: list[tuple[str, str]],
    pools: Pools,
) -> dict:
    """Both configurations on the default (SQLite) profile: each loaded alone, then measured side by side."""
    figures: dict[str, dict] = {}
    with contextlib.ExitStack() as stack:
        started: dict[str, tuple[servers.Server, str]] = {}
        for name in CONFIGS:
            server, token, figures[name] = start_config(name, models[name], actions, workspace, stack)
            started[name] = (server, token)
        urls = {name: server.ready_url.rstrip("/") for name, (server, _) in started.items()}
        assert actions.process is not None
        meters = {
            name: CpuMeter(server.process.pid, actions.process.pid)  # type: ignore[union-attr]
            for name, (server, _) in started.items()
        }
        for name, (_, token) in started.items():
            load.run_level(urls[name], pools.texts, 1, WARM_UP_MESSAGES, f"{name}-warm-up")
            figures[name]["holdout"] = intent_accuracy(urls[name], token, examples)
            log(f"{name}: held-out accuracy {figures[name]['holdout']['accuracy']}")
        for name, levels in interleaved_levels(urls, meters, pools.texts).items():
            figures[name]["levels"] = levels
        for name in CONFIGS:
            figures[name]["growth"] = growth(urls[name], pools.texts, meters[name], name)
        figures["bienvenue"]["floor_levels"] = run_levels(
            urls["bienvenue"], pools.payloads, LEVELS, "floor", meters["bienvenue"]
        )
        for name, (server, _) in started.items():
            assert server.process is not None
            figures[name]["memory_after_load_test"] = memory_mb(server.process.pid)
    for name in CONFIGS:
        figures[name]["startup"] = startup_parts(models[name], figures[name]["load_s"])
        log(f"{name}: start-up {figures[name]['startup']}")
    return figures


def measure_scale(model: Path, action_url: str, pool: list[str]) -> dict:
    """The same load through nginx to one instance, then to two, all sharing PostgreSQL and Redis."""
    token = secrets.token_hex(16)
    with stores.postgresql("bench-postgresql") as pg, stores.redis_server("bench-redis") as redis:
        env = stores.production_env(pg, redis, action_url)
        instances = [
            rasa_instance(f"instance-{index}", model, REPO / "endpoints.production.yml", env, token)
            for index in (1, 2)
        ]
        with contextlib.ExitStack() as stack:
            log("starting two instances on PostgreSQL + Redis")
            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool_executor:
                # Loading both at once halves the wait; entering each context stops it at the end.
                list(
                    pool_executor.map(lambda server: stack.enter_context(servers.running(server)), instances)
                )
            upstreams = [instance.ready_url.removeprefix("http://").rstrip("/") for instance in instances]
            results = {}
            for setup, members in (("one_instance", upstreams[:1]), ("two_instances", upstreams)):
                with stores.nginx(members, f"bench-nginx-{setup}") as proxy:
                    load.run_level(proxy.ready_url, pool, 2, WARM_UP_MESSAGES, f"{setup}-warm-up")
                    results[setup] = {"levels": run_levels(proxy.ready_url, pool, SCALE_LEVELS, setup)}
            for setup_instance, instance in zip(("instance_1", "instance_2"), instances, strict=True):
                assert instance.process is not None
                results[f"memory_{setup_instance}"] = memory_mb(instance.process.pid)
        results["postgresql"] = storage_per_message(pg)
    return results


def storage_per_message(pg: stores.Service) -> dict:
    """What the conversations cost in PostgreSQL, per user message: rows and bytes (table and indexes)."""
    import psycopg2

    host, port = pg.address
    connection = psycopg2.connect(host=host, port=port, user=stores.PG_USER, dbname=stores.PG_DATABASE)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), count(*) FILTER (WHERE type_name = 'user'),"
                " pg_total_relation_size('events') FROM events"
            )
            rows, messages, size = cursor.fetchone()
    finally:
        connection.close()
    return {
        "user_messages": messages,
        "rows_per_message": round(rows / messages, 1),
        "kb_per_message": round(size / messages / 1024, 2),
    }


def ratio(value: float, reference: float) -> float | None:
    return round(value / reference, 2) if reference else None


def compute_ratios(configs: dict, training: dict | None) -> dict:
    """Bienvenue divided by the default configuration (accuracy: the difference)."""
    ours, default = configs["bienvenue"], configs["default"]
    ratios: dict = {
        "throughput_x": {
            c: ratio(ours["levels"][c]["throughput_msg_s"], default["levels"][c]["throughput_msg_s"])
            for c in ours["levels"]
        },
        "p95_fraction": {
            c: ratio(ours["levels"][c]["p95_ms"], default["levels"][c]["p95_ms"]) for c in ours["levels"]
        },
        "load_time_fraction": ratio(ours["load_s"], default["load_s"]),
        "rss_fraction": ratio(
            ours["memory_after_load_test"]["peak_rss_mb"], default["memory_after_load_test"]["peak_rss_mb"]
        ),
        "accuracy_delta": round(ours["holdout"]["accuracy"] - default["holdout"]["accuracy"], 4),
        "cpu_per_msg_fraction": {
            c: ratio(ours["levels"][c]["cpu_ms_per_msg_rasa"], default["levels"][c]["cpu_ms_per_msg_rasa"])
            for c in ours["levels"]
        },
        "growth_200_vs_10": {
            name: configs[name]["growth"]["latency_ratio_200_vs_10"] for name in ("bienvenue", "default")
        },
    }
    if training:
        for kind in ("cold_s", "one_example_added_s"):
            ratios[f"training_{kind.removesuffix('_s')}_fraction"] = ratio(
                training["bienvenue"][kind], training["default"][kind]
            )
    return ratios


def report(results: dict) -> str:
    configs, ratios, training = results["configs"], results["ratios"], results["training"]
    ours, default, floor = configs["bienvenue"], configs["default"], configs["bienvenue"]["floor_levels"]
    rows: list[tuple[str, object, object, object, object]] = []
    if training:
        for kind, label in (
            ("cold_s", "training, cold (s)"),
            ("one_example_added_s", "training, +1 example (s)"),
        ):
            rows.append(
                (
                    label,
                    training["bienvenue"][kind],
                    training["default"][kind],
                    "",
                    ratios[f"training_{kind.removesuffix('_s')}_fraction"],
                )
            )
    rows += [
        (
            "model load, to first answer (s)",
            ours["load_s"],
            default["load_s"],
            results["import_floor_s"],
            ratios["load_time_fraction"],
        ),
        (
            "RSS after load (MB)",
            ours["memory_after_load"]["rss_mb"],
            default["memory_after_load"]["rss_mb"],
            "",
            "",
        ),
        (
            "RSS peak under load (MB)",
            ours["memory_after_load_test"]["peak_rss_mb"],
            default["memory_after_load_test"]["peak_rss_mb"],
            "",
            ratios["rss_fraction"],
        ),
        (
            "held-out intent accuracy",
            ours["holdout"]["accuracy"],
            default["holdout"]["accuracy"],
            "",
            f"{ratios['accuracy_delta']:+.3f}",
        ),
        (
            "  same, fallback = miss",
            ours["holdout"]["accuracy_fallback_as_miss"],
            default["holdout"]["accuracy_fallback_as_miss"],
            "",
            "",
        ),
        (
            "NLU alone (/model/parse), p50 (ms)",
            ours["holdout"]["nlu_parse_p50_ms"],
            default["holdout"]["nlu_parse_p50_ms"],
            "",
            ratio(ours["holdout"]["nlu_parse_p50_ms"], default["holdout"]["nlu_parse_p50_ms"]),
        ),
    ]
    for part, label in (
        ("imports_s", "  of which imports (s)"),
        ("spacy_s", "  of which spaCy (s)"),
        ("diet_s", "  of which DIET (s)"),
        ("other_components_s", "  of which other components (s)"),
        ("server_s", "  of which server, CLI (s)"),
    ):
        rows.append((label, ours["startup"][part], default["startup"][part], "", ""))
    for c in ours["levels"]:
        for key, label in (
            ("p50_ms", "p50 (ms)"),
            ("p95_ms", "p95 (ms)"),
            ("p99_ms", "p99 (ms)"),
            ("throughput_msg_s", "throughput (msg/s)"),
            ("cpu_ms_per_msg_rasa", "CPU/msg, Rasa (ms)"),
            ("cpu_ms_per_msg_actions", "CPU/msg, actions (ms)"),
        ):
            kind = {"p95_ms": ratios["p95_fraction"][c], "throughput_msg_s": ratios["throughput_x"][c]}
            rows.append(
                (
                    f"@{c} conversations, {label}",
                    ours["levels"][c][key],
                    default["levels"][c][key],
                    floor[c][key],
                    kind.get(key, ratio(ours["levels"][c][key], default["levels"][c][key])),
                )
            )
    for prior in GROWTH_AT:
        for key, label in (
            ("latency_p50_ms", "latency p50 (ms)"),
            ("cpu_ms_per_msg_rasa", "CPU/msg, Rasa (ms)"),
        ):
            mine, theirs = ours["growth"][str(prior)][key], default["growth"][str(prior)][key]
            rows.append((f"after {prior} turns, {label}", mine, theirs, "", ratio(mine, theirs)))
    rows.append(
        (
            "growth 200 vs 10 turns (latency p50)",
            ours["growth"]["latency_ratio_200_vs_10"],
            default["growth"]["latency_ratio_200_vs_10"],
            "",
            "",
        )
    )
    lines = [f"{'':34} {'bienvenue':>10} {'default':>10} {'floor':>10} {'bienv/def':>10}"]
    lines += [f"{label:34} {a!s:>10} {b!s:>10} {c!s:>10} {r!s:>10}" for label, a, b, c, r in rows]
    errors = sum(
        level["errors"] for config in (ours["levels"], default["levels"], floor) for level in config.values()
    )
    lines.append(
        f"failed requests: {errors}. Floors: latency and throughput, the same messages sent as intent "
        "payloads (no NLU); model load, importing Rasa, TensorFlow and spaCy."
    )
    top = max(ours["levels"], key=int)
    floor_x = ratio(floor[top]["throughput_msg_s"], default["levels"][top]["throughput_msg_s"])
    lines.append(
        f"The floor (Bienvenue's server, no NLU at all) gives ×{floor_x} the default's throughput at "
        f"{top} conversations: what is left to gain in the NLU."
    )
    lines.append("")
    lines.append("Issue targets (information, not pass/fail):")
    lines.append(
        f"  throughput ×{ratios['throughput_x']['10']} at 10 conversations (target {TARGETS['throughput_x']})"
    )
    if "10" in ratios["p95_fraction"]:
        lines.append(
            f"  p95 at 10 conversations ×{ratios['p95_fraction']['10']} "
            f"(target {TARGETS['p95_at_10_fraction']})"
        )
    lines.append(f"  model load ×{ratios['load_time_fraction']} (target {TARGETS['load_time_fraction']})")
    lines.append(f"  accuracy {ratios['accuracy_delta']:+.3f} (target {TARGETS['accuracy_delta']})")
    lines.append(
        f"  latency after 200 turns ×{ratios['growth_200_vs_10']['bienvenue']} that after 10 (target <= 1.2)"
    )
    scale = results.get("scale")
    if scale:
        lines.append("")
        lines.append("Behind nginx, PostgreSQL + Redis (Bienvenue's model):")
        for c in scale["one_instance"]["levels"]:
            one, two = scale["one_instance"]["levels"][c], scale["two_instances"]["levels"][c]
            lines.append(
                f"  @{c}: one instance {one['throughput_msg_s']} msg/s (p95 {one['p95_ms']} ms), "
                f"two instances {two['throughput_msg_s']} msg/s (p95 {two['p95_ms']} ms): "
                f"×{ratio(two['throughput_msg_s'], one['throughput_msg_s'])}, "
                f"{one['errors'] + two['errors']} errors; spread {two['upstreams']}"
            )
        storage = scale["postgresql"]
        lines.append(
            f"  PostgreSQL: {storage['rows_per_message']} rows and {storage['kb_per_message']} kB per message"
        )
    machine = results["machine"]
    lines.append("")
    lines.append(
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB, Rasa "
        f"{machine['rasa']}; load average {machine['load_average_at_start']} at start, "
        f"{machine['load_average_at_end']} at end; {results['duration_min']} min"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--retrain",
        action="store_true",
        help="train both configurations from scratch (cold, then after adding one example) and report the "
        "training times; by default the trained models are reused",
    )
    parser.add_argument(
        "--scale", action="store_true", help="also one instance against two behind nginx (PostgreSQL + Redis)"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: recompute the ratios, table and plot of the last results/bench/bench.json",
    )
    args = parser.parse_args()
    if args.report_only:
        write_outputs(json.loads((OUT / "bench.json").read_text(encoding="utf-8")))
        return
    # A plain `kill` unwinds like Ctrl-C, so that every server started here is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    started = time.monotonic()
    results: dict = {"date": datetime.datetime.now().isoformat(timespec="minutes"), "machine": machine_info()}
    examples = holdout_examples()
    pools = message_pools(examples)
    with tempfile.TemporaryDirectory(prefix="bienvenue-bench-") as temporary:
        workspace = Path(temporary)
        if args.retrain:
            models_dir = OUT / "models"
            shutil.rmtree(models_dir, ignore_errors=True)
            results["training"] = train_all(workspace, models_dir)
            models = {name: models_dir / f"{name}.tar.gz" for name in CONFIGS}
        else:
            models, results["training"] = reuse_models(), None
        results["models"] = {name: str(path) for name, path in models.items()}
        results["import_floor_s"] = import_time()
        with servers.running(servers.action_server(name="bench-actions")) as actions:
            results["configs"] = measure_configs(models, actions, workspace, examples, pools)
            if args.scale:
                action_url = actions.webhook_url
                results["scale"] = measure_scale(models["bienvenue"], action_url, pools.texts)
    results["machine"]["load_average_at_end"] = load_average()
    results["duration_min"] = round((time.monotonic() - started) / 60, 1)
    write_outputs(results)


def write_outputs(results: dict) -> None:
    """Ratios, bench.json, bench.png and the printed table. Growth is compared on medians and CPU time: the
    mean latency of a single conversation follows the machine's other load."""
    for config in results["configs"].values():
        grown = config["growth"]
        first, last = str(GROWTH_AT[0]), str(GROWTH_AT[-1])
        grown["latency_ratio_200_vs_10"] = ratio(
            grown[last]["latency_p50_ms"], grown[first]["latency_p50_ms"]
        )
        grown["cpu_ratio_200_vs_10"] = ratio(
            grown[last]["cpu_ms_per_msg_rasa"], grown[first]["cpu_ms_per_msg_rasa"]
        )
    results["ratios"] = compute_ratios(results["configs"], results["training"])
    results.update(headline(results))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench.json").write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    plot.plot(results, OUT / "bench.png")
    print()
    print(report(results))
    print(f"\nWritten: {OUT / 'bench.json'}, {OUT / 'bench.png'}")


def headline(results: dict) -> dict:
    """The ratios the issue asks for, at the top of bench.json (Bienvenue / default)."""
    ratios = results["ratios"]
    return {
        "throughput_ratio": ratios["throughput_x"].get("10"),
        "p95_10_ratio": ratios["p95_fraction"].get("10"),
        "load_ratio": ratios["load_time_fraction"],
        "accuracy_delta": ratios["accuracy_delta"],
        "cpu_per_msg_ratio": ratios["cpu_per_msg_fraction"].get("10"),
        "growth_200_vs_10": ratios["growth_200_vs_10"]["bienvenue"],
        "growth_cpu_200_vs_10": results["configs"]["bienvenue"]["growth"]["cpu_ratio_200_vs_10"],
    }


if __name__ == "__main__":
    main()
