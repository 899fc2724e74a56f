"""Padding layers: `ReflectionPad2d` (CycleGAN's generators), `ZeroPad2d`, `ConstantPad2d`.
`padding` is an int (all four sides) or (left, right, top, bottom)."""
from minigan import functional as F
from minigan.nn.module import Module


def _four(padding):
    if isinstance(padding, int):
        return (padding,) * 4
    padding = tuple(padding)
    if len(padding) != 4:
        raise ValueError(f"padding must be an int or (left, right, top, bottom), got {padding}")
    return padding


class ConstantPad2d(Module):
    def __init__(self, padding, value):
        super().__init__()
        self.padding, self.value = _four(padding), value

    def forward(self, x):
        return F.pad(x, self.padding, mode="constant", value=self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ZeroPad2d(ConstantPad2d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad2d(Module):
    """Pads by mirroring the image at its edges (the edge pixel itself is not repeated)."""

    def __init__(self, padding):
        super().__init__()
        self.padding = _four(padding)

    def forward(self, x):
        return F.pad(x, self.padding, mode="reflect")

    def extra_repr(self):
        return f"{self.padding}"
