"""A seeded, shuffling batch iterator that hands out Tensors on the training device.

    loader = DataLoader((images, labels), batch_size=64, seed=0, device="cuda")
    for x, y in loader: ...              # one epoch, from wherever the loader stands
    x, y = loader.next_batch()           # or batch after batch, epochs rolling over
    state = loader.state_dict()          # {"epoch", "batch", "seed", ...}: save it with the run
    loader.load_state_dict(state)        # ... and the next batches are the same ones, bit for bit

Epoch e's order is a permutation drawn from a generator seeded with (seed, e), so the position
(epoch, batch) is the whole state: resuming needs no generator state and cannot drift.
"""
import numpy as np

from minigan import backend
from minigan.creation import tensor


class DataLoader:
    """Batches of `arrays` (one array, or a tuple of arrays with the same first dimension).

    Anything with `len()` and NumPy-style indexing by an integer array works as an array (e.g.
    `StackedMNIST`). Each batch is a Tensor (or a tuple of Tensors) on `device` (default: the
    default device); floating arrays are cast to `dtype` when one is given, others keep theirs.
    `drop_last=True` skips a final short batch, so every batch has `batch_size` rows.
    """

    def __init__(self, arrays, batch_size, shuffle=True, seed=0, drop_last=True, device=None, dtype=None):
        self.single = not isinstance(arrays, (tuple, list))
        self.arrays = (arrays,) if self.single else tuple(arrays)
        if not self.arrays:
            raise ValueError("DataLoader: no arrays given")
        sizes = [len(a) for a in self.arrays]
        if len(set(sizes)) != 1:
            raise ValueError(f"DataLoader: the arrays have different lengths {sizes}; they must agree "
                             "(one row per sample)")
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        self.n, self.batch_size = sizes[0], int(batch_size)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.device = backend.default_device() if device is None else backend.check_device(device)
        self.dtype = None if dtype is None else np.dtype(dtype)
        if len(self) == 0:
            raise ValueError(f"DataLoader: batch_size {self.batch_size} is larger than the dataset "
                             f"({self.n} samples) with drop_last=True, so no batch would be produced")
        self.epoch, self.batch = 0, 0
        self._order_epoch, self._order = None, None

    def __len__(self):
        """Batches per epoch."""
        full, rest = divmod(self.n, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def order(self, epoch):
        """The sample indices of `epoch`, in the order they are served."""
        if not self.shuffle:
            return np.arange(self.n)
        if self._order_epoch != epoch:
            self._order_epoch, self._order = epoch, np.random.default_rng((self.seed, epoch)).permutation(self.n)
        return self._order

    def next_batch(self):
        """The next batch; past the end of an epoch, the first batch of the next one."""
        if self.batch >= len(self):
            self.epoch, self.batch = self.epoch + 1, 0
        start = self.batch * self.batch_size
        indices = self.order(self.epoch)[start:start + self.batch_size]
        self.batch += 1
        batch = tuple(self._to_tensor(a[_indices_for(a, indices)]) for a in self.arrays)
        return batch[0] if self.single else batch

    def __iter__(self):
        """The rest of the current epoch (all of it on a fresh loader); the next loop starts the next epoch."""
        if self.batch >= len(self):
            self.epoch, self.batch = self.epoch + 1, 0
        while self.batch < len(self):
            yield self.next_batch()

    def _to_tensor(self, array):
        dtype = self.dtype if self.dtype is not None and array.dtype.kind == "f" else None
        return tensor(array, dtype=dtype, device=self.device)

    # ---------------------------------------------------------------------------- resume
    def state_dict(self):
        """Where the loader stands: plain ints, for a checkpoint."""
        return {"epoch": self.epoch, "batch": self.batch, "seed": self.seed, "n": self.n,
                "batch_size": self.batch_size, "shuffle": self.shuffle, "drop_last": self.drop_last}

    def load_state_dict(self, state):
        """Go back to a saved position; refuses a state taken on other data or settings."""
        for key in ("seed", "n", "batch_size", "shuffle", "drop_last"):
            if key in state and _plain(state[key]) != getattr(self, key):
                raise ValueError(f"DataLoader.load_state_dict: the state has {key}={_plain(state[key])!r} but "
                                 f"this loader has {key}={getattr(self, key)!r}; resuming would serve "
                                 "different batches")
        epoch, batch = int(state["epoch"]), int(state["batch"])
        if epoch < 0 or not 0 <= batch <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: position epoch={epoch}, batch={batch} is outside "
                             f"0..{len(self)} batches per epoch")
        self.epoch, self.batch = epoch, batch


def _indices_for(array, indices):
    """The indices on the array's own device (a CuPy array is indexed on the GPU)."""
    return backend.to_device(indices, backend.device_of(array))


def _plain(value):
    """A saved number (possibly a 0-d array after a round trip through a checkpoint) as a Python value."""
    return value.item() if hasattr(value, "item") else value
