"""Peak memory of a training workload, each engine in a fresh process.

The number is the growth of the process's peak resident set while it trains: measured from just
before the networks are built, so the libraries' own import footprint (PyTorch's is large) is left
out and both engines are charged only for what training needs. CPU only: a GPU's memory is pooled
by each library differently.

    python -m minigan.bench.memory dcgan-28 minigan 10      # prints {"peak_mib": ...}
"""
import json
import resource
import subprocess
import sys


def _peak_rss_mib():
    """This process's peak resident set. Linux's VmHWM belongs to the process image; getrusage's
    ru_maxrss would also carry the parent's peak across fork + exec (a large test runner's, say)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024   # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def measure_here(workload, library, steps, batch=64):
    from minigan.bench.engines import Engine
    from minigan.bench.workloads import WORKLOADS
    engine = Engine(library, "cpu")
    engine.lib  # import the library before the baseline
    before = _peak_rss_mib()
    step = WORKLOADS[workload].build(engine, batch)
    for _ in range(steps):
        step()
    return _peak_rss_mib() - before


def peak_training_memory(workload, library, steps=5, batch=64):
    """MiB of peak-RSS growth over `steps` training steps, measured in a child process."""
    result = subprocess.run([sys.executable, "-m", "minigan.bench.memory", workload, library, str(steps), str(batch)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"bench memory: measuring {workload} on {library} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_mib"]


if __name__ == "__main__":
    name, lib, n, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 64
    print(json.dumps({"peak_mib": measure_here(name, lib, n, size)}))
