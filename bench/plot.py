"""The benchmark's PNG: latency distribution and throughput per concurrency, cost per message as a
conversation grows, start-up time by part."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI

import matplotlib.pyplot as plt

COLOURS = {"bienvenue": "#000091", "default": "#e1000f", "floor": "#7f7f7f"}
LABELS = {"bienvenue": "Bienvenue", "default": "Rasa default", "floor": "floor (payloads, no NLU)"}


def plot(results: dict, path: Path) -> None:
    runs = {name: results["configs"][name]["levels"] for name in ("bienvenue", "default")}
    runs["floor"] = results["configs"]["bienvenue"]["floor_levels"]
    concurrencies = sorted({int(level) for levels in runs.values() for level in levels})
    figure, ((latency_ax, throughput_ax), (growth_ax, startup_ax)) = plt.subplots(
        2, 2, figsize=(15, 10), gridspec_kw={"width_ratios": [2, 1.2]}
    )

    width = 0.8 / len(runs)
    for offset, (name, levels) in enumerate(runs.items()):
        positions = [index + (offset - (len(runs) - 1) / 2) * width for index in range(len(concurrencies))]
        samples = [levels[str(c)]["latencies_ms"] or [float("nan")] for c in concurrencies]
        boxes = latency_ax.boxplot(
            samples,
            positions=positions,
            widths=width * 0.9,
            whis=(1, 99),
            showfliers=False,
            patch_artist=True,
        )
        for box in boxes["boxes"]:
            box.set(facecolor=COLOURS[name], alpha=0.55)
        latency_ax.plot([], [], color=COLOURS[name], linewidth=8, alpha=0.55, label=LABELS[name])
        throughputs = [levels[str(c)]["throughput_msg_s"] for c in concurrencies]
        throughput_ax.bar(positions, throughputs, width=width * 0.9, color=COLOURS[name], label=LABELS[name])
    for ax in (latency_ax, throughput_ax):
        ax.set_xticks(range(len(concurrencies)), [str(c) for c in concurrencies])
        ax.set_xlabel("concurrent conversations")
    latency_ax.set_yscale("log")
    latency_ax.set_ylabel("latency per message (ms, log scale; whiskers p1–p99)")
    latency_ax.set_title("Latency distribution")
    latency_ax.legend(loc="upper left")
    throughput_ax.set_ylim(top=throughput_ax.get_ylim()[1] * 1.1)
    throughput_ax.set_ylabel("messages per second")
    throughput_ax.set_title("Throughput")

    for name in ("bienvenue", "default"):
        grown = results["configs"][name]["growth"]
        priors = sorted(int(key) for key in grown if key.isdigit())
        growth_ax.plot(
            priors,
            [grown[str(prior)]["latency_p50_ms"] for prior in priors],
            marker="o",
            color=COLOURS[name],
            label=f"{LABELS[name]}: latency p50",
        )
        growth_ax.plot(
            priors,
            [grown[str(prior)]["cpu_ms_per_msg_rasa"] for prior in priors],
            marker="s",
            linestyle="--",
            color=COLOURS[name],
            label=f"{LABELS[name]}: Rasa CPU",
        )
    growth_ax.set_ylim(bottom=0)
    growth_ax.set_xlabel("prior turns in the conversation")
    growth_ax.set_ylabel("ms per message (one conversation alone)")
    growth_ax.set_title("Cost of a message as the conversation grows")
    growth_ax.legend(loc="upper left")

    parts = [
        ("imports_s", "imports"),
        ("spacy_s", "spaCy"),
        ("diet_s", "DIET"),
        ("other_components_s", "other components"),
        ("server_s", "server, CLI"),
    ]
    names = ["bienvenue", "default"]
    bottoms = [0.0, 0.0]
    for (key, label), colour in zip(
        parts, ["#929292", "#6a6af4", "#000091", "#e1000f", "#c9191e80"], strict=True
    ):
        values = [results["configs"][name]["startup"][key] for name in names]
        startup_ax.bar([LABELS[name] for name in names], values, bottom=bottoms, color=colour, label=label)
        bottoms = [bottom + value for bottom, value in zip(bottoms, values, strict=True)]
    startup_ax.set_ylabel("seconds to first answer")
    startup_ax.set_title("Start-up")
    startup_ax.legend(loc="upper left")

    machine = results["machine"]
    figure.suptitle(
        f"Bienvenue benchmark — {machine['cpu']} ({machine['cores']} cores), {results['date']}", fontsize=11
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
