"""Checks for resizing and padding: interpolate in every mode (up, down, non-integer, both
align_corners), pad in every mode with asymmetric widths, pixel_shuffle and pixel_unshuffle."""
from minigan.gradcheck.registry import Arg, register
from minigan.ops.resize import interpolate, pad, pixel_shuffle, pixel_unshuffle

IMAGE = Arg((2, 2, 3, 4))

for case, options in [
    ("scale 2", dict(scale_factor=2)),
    ("size (5, 7)", dict(size=(5, 7))),
    ("scale (1.5, 0.5)", dict(scale_factor=(1.5, 0.5))),
    ("down to (2, 3)", dict(size=(2, 3))),
]:
    register("interpolate", f"nearest {case}", lambda x, o=options: interpolate(x, mode="nearest", **o), IMAGE)
    for align_corners in (False, True):
        register("interpolate", f"bilinear {case} align_corners={align_corners}",
                 lambda x, o=options, a=align_corners: interpolate(x, mode="bilinear", align_corners=a, **o),
                 IMAGE)
register("interpolate", "bilinear to one pixel align_corners=True",
         lambda x: interpolate(x, size=(1, 1), mode="bilinear", align_corners=True), IMAGE)

for mode in ("reflect", "replicate", "circular"):
    register("pad", f"{mode} (2, 1, 0, 2)", lambda x, m=mode: pad(x, (2, 1, 0, 2), mode=m), IMAGE)
    register("pad", f"{mode} last dim of 3-D (0, 3)", lambda x, m=mode: pad(x, (0, 3), mode=m), Arg((2, 3, 4)))
register("pad", "replicate wider than the input (5, 0, 1, 4)",
         lambda x: pad(x, (5, 0, 1, 4), mode="replicate"), IMAGE)
register("pad", "constant (1, 2, 2, 0) value 0.5", lambda x: pad(x, (1, 2, 2, 0), value=0.5), IMAGE)
register("pad", "constant three dims with crops (-1, 1, 0, -2, 1, 0)",
         lambda x: pad(x, (-1, 1, 0, -2, 1, 0)), IMAGE)

register("pixel_shuffle", "factor 2", lambda x: pixel_shuffle(x, 2), Arg((2, 8, 2, 3)))
register("pixel_unshuffle", "factor 2", lambda x: pixel_unshuffle(x, 2), Arg((2, 2, 4, 6)))
