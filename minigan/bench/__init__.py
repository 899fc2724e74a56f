"""`minigan bench`: minigan against PyTorch (and its own cuda conv paths), measured in one run.

    minigan bench                              # cpu: ops, training steps, peak memory vs PyTorch CPU
    minigan bench --device cuda --png b.png    # cuda: our kernels, the im2col path, PyTorch CUDA

Sections: `ops` (the DCGAN conv layers, a matmul and a batch norm, forward+backward), `steps`
(the mlp-gan, dcgan-28 and wgan-gp-28 training steps of `workloads.py`) and `memory` (peak
memory of dcgan-28 training, cpu). Engines take turns call by call and medians are reported, so on
a shared machine the ratios are what to read, not the absolute times.
"""
import minigan as mg
from minigan import backend, profiler
from minigan.bench import layers, memory, report
from minigan.bench.engines import Engine, engines_for, torch_available
from minigan.bench.timing import gemm_gflops, time_engines
from minigan.bench.workloads import WORKLOADS

SECTIONS = ("ops", "steps", "memory")


def _row(case, times, engines, flops=None):
    peer = next((e.label for e in engines if e.is_peer), None)
    ms = {label: seconds * 1e3 for label, seconds in times.items()}
    ratio = {e.label: (ms[e.label] / ms[peer] if peer else None) for e in engines if not e.is_peer}
    first = engines[0].label
    gflops = 3 * flops / (times[first] * 1e9) if flops else None   # fwd + bwd-data + bwd-weight
    return {"case": case, "ms": ms, "ratio": ratio, "gflops": gflops}


def bench_ops(engines, cases, repeats, progress=print):
    rows = []
    for case in cases:
        times = time_engines(engines, lambda e: case.build(e, backward=True), repeats)
        rows.append(_row(case.label, times, engines, case.flops()))
        progress(f"  {case.label}: " + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in times.items()))
    return rows


def bench_steps(engines, names, batch, repeats, progress=print):
    rows = []
    for name in names:
        times = time_engines(engines, lambda e: WORKLOADS[name].build(e, batch), repeats)
        rows.append(_row(f"{name} (batch {batch})", times, engines))
        rows[-1]["gemm_gflop"] = gemm_work(engines[0], WORKLOADS[name].build(engines[0], batch))
        progress(f"  {name}: " + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in times.items()))
    return rows


def gemm_work(engine, step):
    """GFLOP of matrix products in one call of a minigan cpu workload (one profiled, untimed call):
    at the machine's GEMM rate, the time the step would take if nothing but its GEMMs cost. None for
    PyTorch and on cuda, where NumPy's cpu GEMM rate is no yardstick."""
    if engine.is_peer or engine.device != "cpu":
        return None
    step()
    with mg.profile() as prof:
        step()
    return sum(r["gflop"] for r in prof.rows() if r["name"] == profiler.GEMM)


def bench_memory(compare, workload="dcgan-28", steps=5, batch=64):
    libraries = ["minigan"] + (["torch"] if compare and torch_available("cpu") else [])
    return {f"{workload} ({steps} steps, batch {batch})":
            {f"{lib} cpu": memory.peak_training_memory(workload, lib, steps, batch) for lib in libraries}}


def run(device="cpu", compare="torch", sections=SECTIONS, batches=None, repeats=15, json_path=None,
        png_path=None, quick=False, progress=print):
    """Run the chosen sections, print their tables and return the results (also as JSON / PNG)."""
    device = backend.check_device(device)
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        raise ValueError(f"bench: unknown section(s) {unknown}; choose from {list(SECTIONS)}")
    compare = compare == "torch"
    if compare and not torch_available(device):
        progress(f"PyTorch ({device}) is not installed: timing minigan only (pip install -e '.[torch]')")
    engines = engines_for(device, compare)
    batches = batches or ((64, 256) if device == "cuda" else (64,))
    cases, step_batch = layers.layer_cases(batches), batches[0]
    if quick:  # the tests' smoke run: two small cases, tiny batches, two repeats
        cases, step_batch, repeats = [c.with_batch(2) for c in cases[:2]], 2, 2
    gemm = gemm_gflops(256 if quick else (4096 if device == "cuda" else 1024), device=device)
    results = {"machine": report.machine_description(gemm), "device": device,
               "engines": [e.label for e in engines], "repeats": repeats, "sections": {}}
    progress(f"minigan bench on {device}: {', '.join(results['engines'])}; median of {repeats}, float32")
    if "ops" in sections:
        results["sections"]["ops"] = bench_ops(engines, cases, repeats, progress)
    if "steps" in sections:
        names = ["mlp-gan"] if quick else list(WORKLOADS)
        results["sections"]["steps"] = bench_steps(engines, names, step_batch, repeats, progress)
    if "memory" in sections and device == "cpu":
        results["memory"] = bench_memory(compare, steps=2 if quick else 5, batch=step_batch)
    _print_tables(results, progress)
    if json_path:
        report.write_json(json_path, results)
    if png_path:
        report.plot_ratios(png_path, results)
    return results


def _print_tables(results, progress):
    titles = {"ops": "ops (forward + backward)", "steps": "training steps (one D and one G update; "
              "wgan-gp-28: five critic updates and one G update)"}
    for name, rows in results["sections"].items():
        progress("\n" + report.format_section(titles[name], rows, results["engines"],
                                             results["machine"]["gemm_gflops"]))
    if results.get("memory"):
        progress("\n" + report.format_memory(results["memory"]))
    machine = results["machine"]
    if results["device"] == "cuda":
        progress(f"\ncuBLAS float32 GEMM rate (CuPy, no TF32): {machine['gemm_gflops']:.0f} GFLOP/s ({machine['gpu']})")
    else:
        progress(f"\nNumPy float32 GEMM rate: {machine['gemm_gflops']:.0f} GFLOP/s "
                 f"({machine['cpu_count']} cores, {machine['processor']})")


__all__ = ["run", "Engine", "engines_for", "WORKLOADS", "layers", "time_engines", "gemm_gflops"]
