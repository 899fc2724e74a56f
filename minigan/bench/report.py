"""What `minigan bench` prints and writes: markdown tables, JSON records and a bar chart of ratios."""
import json
import os
import platform

import numpy as np


def machine_description(gemm_gflops):
    import minigan as mg
    info = {"machine": platform.machine(), "processor": _cpu_name(), "cpu_count": os.cpu_count(),
            "numpy": np.__version__, "gemm_gflops": gemm_gflops,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", ""),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "")}
    if mg.cuda.is_available():
        import cupy
        info["gpu"] = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
        info["cupy"] = cupy.__version__
    try:
        import torch
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    return info


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cell(value, fmt="{:.2f}"):
    return "-" if value is None else fmt.format(value)


def format_section(title, rows, engines, gemm_gflops=None):
    """A markdown table: one row per case, each engine's median ms, the ratios to the peer, and
    for cases with a flop count the first engine's fwd+bwd GFLOP/s and its share of the GEMM rate."""
    timed = [e for e in engines if any(e in r["ms"] for r in rows)]
    ratio_engines = [e for e in timed if any(r["ratio"].get(e) is not None for r in rows)]
    with_flops = any(r.get("gflops") for r in rows)
    with_gemm_work = any(r.get("gemm_gflop") for r in rows) and gemm_gflops
    header = ["case"] + [f"{e} ms" for e in timed] + [f"{e} / peer" for e in ratio_engines]
    if with_flops:
        header += ["GFLOP/s", "% of GEMM"]
    if with_gemm_work:
        header += [f"{timed[0]} GEMM GFLOP", "GEMM-only ms"]
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |",
             "| --- |" + " ---: |" * (len(header) - 1)]
    for r in rows:
        cells = [r["case"]] + [_cell(r["ms"].get(e)) for e in timed] + [_cell(r["ratio"].get(e)) for e in ratio_engines]
        if with_flops:
            share = 100 * r["gflops"] / gemm_gflops if r.get("gflops") and gemm_gflops else None
            cells += [_cell(r.get("gflops"), "{:.0f}"), _cell(share, "{:.0f}%")]
        if with_gemm_work:
            work = r.get("gemm_gflop")
            cells += [_cell(work, "{:.2f}"), _cell(1e3 * work / gemm_gflops if work else None, "{:.1f}")]
        lines.append("| " + " | ".join(cells) + " |")
    totals = {e: sum(r["ms"].get(e, 0.0) for r in rows) for e in timed}
    peers = [e for e in timed if e not in ratio_engines]
    if peers and ratio_engines and all(all(e in r["ms"] for e in timed) for r in rows):
        peer_total = totals[peers[0]]
        lines.append("| **total** | " + " | ".join(f"**{totals[e]:.1f}**" for e in timed) + " | " +
                     " | ".join(f"**{totals[e] / peer_total:.2f}**" for e in ratio_engines) + " |" +
                     (" | |" if with_flops else "") + (" | |" if with_gemm_work else ""))
    return "\n".join(lines)


def format_memory(memory):
    lines = ["### peak memory of training (growth of peak RSS, MiB)", "",
             "| workload | " + " | ".join(next(iter(memory.values()))) + " | ratio |", "| --- |" +
             " ---: |" * (len(next(iter(memory.values()))) + 1)]
    for name, by_engine in memory.items():
        values = list(by_engine.values())
        ratio = values[0] / values[-1] if len(values) > 1 and values[-1] > 0 else None
        lines.append(f"| {name} | " + " | ".join(f"{v:.0f}" for v in values) + f" | {_cell(ratio)} |")
    return "\n".join(lines)


def write_json(path, results):
    with open(path, "w") as f:
        json.dump(results, f, indent=2)


def machine_label(results):
    """What the timings ran on: the GPU's name for a cuda run, else the CPU's."""
    machine = results["machine"]
    return machine.get("gpu", machine["processor"]) if results.get("device") == "cuda" else machine["processor"]


def plot_ratios(path, results):
    """Horizontal bars: each minigan engine's time over the peer's, per case, with 1.0 marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for section in results["sections"].values() for r in section]
    engines = sorted({e for r in rows for e, v in r["ratio"].items() if v is not None})
    if not engines:
        raise ValueError("bench --png: no ratios to plot (run with --compare torch and PyTorch installed)")
    cases = [r["case"] for r in rows]
    height = 0.8 / len(engines)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(cases) * len(engines) + 1.5))
    positions = np.arange(len(cases))
    for i, engine in enumerate(engines):
        values = [r["ratio"].get(engine) or 0.0 for r in rows]
        bars = ax.barh(positions + i * height, values, height, label=engine)
        ax.bar_label(bars, fmt="%.2f", padding=2, fontsize=7)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks(positions + height * (len(engines) - 1) / 2, cases)
    ax.invert_yaxis()
    ax.set_xlabel("time / peer's time (lower is faster; 1 = as fast as PyTorch on the same device)")
    ax.legend(loc="lower right")
    ax.set_title(f"minigan bench on {machine_label(results)}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
