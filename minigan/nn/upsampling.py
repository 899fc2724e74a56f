"""`Upsample`: resizing by a scale factor or to a size ("nearest" or "bilinear")."""
from minigan import functional as F
from minigan.nn.module import Module


class Upsample(Module):
    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None):
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError("Upsample: give exactly one of size and scale_factor")
        self.size = size
        if scale_factor is not None:
            scale_factor = tuple(float(s) for s in scale_factor) if isinstance(scale_factor, (tuple, list)) \
                else float(scale_factor)
        self.scale_factor, self.mode, self.align_corners = scale_factor, mode, align_corners

    def forward(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners)

    def extra_repr(self):
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"
