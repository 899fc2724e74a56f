"""Checks for avg_pool2d, max_pool2d and adaptive_avg_pool2d over kernel, stride, padding,
dilation, ceil_mode and count_include_pad. Second order reaches AvgPool2dGrad and MaxPool2dGrad.
Max pool inputs are random floats, so no two entries of a window tie."""
from minigan.gradcheck.registry import Arg, register
from minigan.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d

IMAGE = Arg((2, 2, 4, 6))
ODD_IMAGE = Arg((2, 2, 5, 5))

MAX_POOL = [
    ("k2", IMAGE, dict(kernel_size=2)),
    ("k3 stride 2 padding 1", ODD_IMAGE, dict(kernel_size=3, stride=2, padding=1)),
    ("k(2,3) stride (1,2) overlapping", IMAGE, dict(kernel_size=(2, 3), stride=(1, 2))),
    ("k2 stride 1 padding 1 dilation 2", ODD_IMAGE, dict(kernel_size=2, stride=1, padding=1, dilation=2)),
    ("k2 ceil_mode", ODD_IMAGE, dict(kernel_size=2, ceil_mode=True)),
]
for case, image, options in MAX_POOL:
    register("max_pool2d", case, lambda x, o=options: max_pool2d(x, **o), image)

AVG_POOL = [
    ("k2", IMAGE, dict(kernel_size=2)),
    ("k3 stride 2 padding 1", ODD_IMAGE, dict(kernel_size=3, stride=2, padding=1)),
    ("k3 stride 2 padding 1 count_include_pad=False", ODD_IMAGE,
     dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("k(3,2) stride (1,2)", IMAGE, dict(kernel_size=(3, 2), stride=(1, 2))),
    ("k2 ceil_mode padding 1 count_include_pad=False", ODD_IMAGE,
     dict(kernel_size=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("k3 stride 2 ceil_mode", ODD_IMAGE, dict(kernel_size=3, stride=2, ceil_mode=True)),
]
for case, image, options in AVG_POOL:
    register("avg_pool2d", case, lambda x, o=options: avg_pool2d(x, **o), image)

register("adaptive_avg_pool2d", "(4, 6) to (2, 3)", lambda x: adaptive_avg_pool2d(x, (2, 3)), IMAGE)
register("adaptive_avg_pool2d", "to 1", lambda x: adaptive_avg_pool2d(x, 1), IMAGE)
