"""The benchmark's PNG: latency distribution per configuration and concurrency, throughput, scale-out."""

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
    figure, (latency_ax, throughput_ax, scale_ax) = plt.subplots(
        1, 3, figsize=(17, 5.5), gridspec_kw={"width_ratios": [2.2, 1.2, 1]}
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

    scale = results.get("scale", {})
    setups = [setup for setup in ("one_instance", "two_instances") if setup in scale]
    scale_levels = sorted({int(level) for setup in setups for level in scale[setup]["levels"]})
    for offset, setup in enumerate(setups):
        positions = [index + (offset - 0.5) * 0.4 for index in range(len(scale_levels))]
        values = [scale[setup]["levels"][str(c)]["throughput_msg_s"] for c in scale_levels]
        scale_ax.bar(
            positions, values, width=0.36, label=setup.replace("_", " "), color=["#6a6af4", "#000091"][offset]
        )
    scale_ax.set_xticks(range(len(scale_levels)), [str(c) for c in scale_levels])
    scale_ax.set_xlabel("concurrent conversations")
    scale_ax.set_ylabel("messages per second")
    scale_ax.set_title("Behind nginx, PostgreSQL + Redis")
    if setups:
        scale_ax.set_ylim(top=scale_ax.get_ylim()[1] * 1.25)  # room for the legend above the bars
        scale_ax.legend(loc="upper left")

    machine = results["machine"]
    figure.suptitle(
        f"Bienvenue benchmark — {machine['cpu']} ({machine['cores']} cores), {results['date']}", fontsize=11
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
