"""The engines a benchmark compares: minigan on cpu, on cuda with each conv path, and PyTorch.

minigan keeps PyTorch's API, so one workload definition runs on every engine: an `Engine` hands
it the `nn`, `optim` and functional modules plus the few calls whose spelling differs (random
tensors, `grad`, synchronisation), and times calls the honest way for its device (CUDA events).
"""
import contextlib
import os
import time
from dataclasses import dataclass

import numpy as np

import minigan as mg
import minigan.functional as minigan_functional
from minigan import conv_kernels


@dataclass(frozen=True)
class Engine:
    library: str        # "minigan" or "torch"
    device: str         # "cpu" or "cuda"
    conv: str = ""      # minigan on cuda: "kernels" or "im2col"

    @property
    def label(self):
        if self.library == "minigan" and self.device == "cuda":
            return f"minigan cuda-{self.conv}"
        return f"{self.library} {self.device}"

    @property
    def is_peer(self):
        return self.library == "torch"

    # ---- the modules a workload builds with
    @property
    def lib(self):
        return _torch() if self.is_peer else mg

    @property
    def nn(self):
        return self.lib.nn

    @property
    def optim(self):
        return self.lib.optim

    @property
    def F(self):
        return _torch().nn.functional if self.is_peer else minigan_functional

    # ---- the calls whose spelling differs
    def randn(self, *shape):
        return self.lib.randn(*shape, device=self.device)

    def rand(self, *shape):
        return self.lib.rand(*shape, device=self.device)

    def tensor(self, array, requires_grad=False):
        """A float32 tensor on this engine's device from a NumPy array."""
        array = np.asarray(array, dtype=np.float32)
        if self.is_peer:
            return _torch().tensor(array, device=self.device, requires_grad=requires_grad)
        return mg.tensor(array, device=self.device, requires_grad=requires_grad)

    def grad(self, output, inputs, create_graph=False):
        if self.is_peer:
            return _torch().autograd.grad(output, inputs, create_graph=create_graph)
        return mg.grad(output, inputs, create_graph=create_graph)

    def no_grad(self):
        return self.lib.no_grad()

    def module(self, module):
        return module.to(self.device)

    def synchronize(self):
        if self.device != "cuda":
            return
        if self.is_peer:
            _torch().cuda.synchronize()
        else:
            mg.cuda.synchronize()

    def active(self):
        """The context every call of this engine runs in (picks minigan's conv path on cuda)."""
        if self.library == "minigan" and self.device == "cuda":
            return conv_kernels.implementation(self.conv)
        return contextlib.nullcontext()

    def time(self, fn):
        """Seconds taken by fn(): CUDA events around it on a GPU, the wall clock on cpu."""
        with self.active():
            if self.device != "cuda":
                start = time.perf_counter()
                fn()
                return time.perf_counter() - start
            return self._time_cuda(fn)

    def _time_cuda(self, fn):
        if self.is_peer:
            cuda = _torch().cuda
            start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1e3
        import cupy
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        fn()
        end.record()
        end.synchronize()
        return cupy.cuda.get_elapsed_time(start, end) / 1e3


def torch_available(device="cpu"):
    torch = _torch()
    return torch is not None and (device == "cpu" or torch.cuda.is_available())


def engines_for(device, compare=True):
    """The engines to time on `device`: minigan (both conv paths on cuda), then PyTorch if installed."""
    if device == "cuda":
        engines = [Engine("minigan", "cuda", "kernels"), Engine("minigan", "cuda", "im2col")]
    else:
        engines = [Engine("minigan", "cpu")]
    if compare and torch_available(device):
        engines.append(Engine("torch", device))
    return engines


_TORCH = []


def blas_threads():
    """The thread count NumPy's BLAS runs with (its environment variables, else every core); the
    PyTorch peer gets the same, so both engines use the same cores."""
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def _torch():
    """PyTorch, imported once and set to use every core (as minigan's BLAS does); None if absent."""
    if not _TORCH:
        try:
            import torch
            torch.set_num_threads(blas_threads())
        except ImportError:
            torch = None
        _TORCH.append(torch)
    return _TORCH[0]
