"""Checks for conv2d and conv_transpose2d over stride, padding, dilation, groups, output_padding,
non-square kernels, with and without bias. Their second order runs through all three conv
Functions (Conv2d, ConvTranspose2d, Conv2dGradWeight), so each is checked there too."""
from minigan.gradcheck.registry import Arg, register
from minigan.ops.conv import conv2d, conv_transpose2d

# (case, input shape, weight shape, options); bias has weight's output channels
CONV2D = [
    ("k3", (2, 2, 5, 5), (3, 2, 3, 3), dict()),
    ("k3 padding 1", (2, 2, 5, 5), (3, 2, 3, 3), dict(padding=1)),
    ("k(3,2) stride 2 padding (1,0)", (2, 2, 5, 6), (3, 2, 3, 2), dict(stride=2, padding=(1, 0))),
    ("k4 stride 2 padding 1", (2, 2, 6, 6), (2, 2, 4, 4), dict(stride=2, padding=1)),
    ("k3 dilation 2 padding 2", (2, 2, 5, 5), (2, 2, 3, 3), dict(padding=2, dilation=2)),
    ("k2 groups 2", (2, 4, 3, 4), (4, 2, 2, 2), dict(groups=2)),
    ("k(2,3) stride (2,1) padding (2,1) dilation (1,2) groups 2", (2, 4, 3, 4), (2, 2, 2, 3),
     dict(stride=(2, 1), padding=(2, 1), dilation=(1, 2), groups=2)),
    # 16 channels at stride 1: forward and weight gradient by shifted GEMMs (no im2col)
    ("k3 padding 1, 16 channels (shifted GEMMs)", (1, 16, 4, 4), (2, 16, 3, 3), dict(padding=1)),
]

for case, x_shape, w_shape, options in CONV2D:
    register("conv2d", case, lambda x, w, b, o=options: conv2d(x, w, b, **o),
             Arg(x_shape), Arg(w_shape), Arg(w_shape[:1]))
register("conv2d", "k3 stride 2 no bias", lambda x, w: conv2d(x, w, stride=2), Arg((2, 2, 5, 5)), Arg((2, 2, 3, 3)))
register("conv2d", "unbatched (C, H, W)", lambda x, w: conv2d(x, w, padding=1), Arg((2, 5, 5)), Arg((2, 2, 3, 3)))

# weight (C_in, C_out / groups, kh, kw); bias has C_out = weight.shape[1] * groups entries
CONV_TRANSPOSE2D = [
    ("k3", (2, 3, 3, 3), (3, 2, 3, 3), dict()),
    ("k4 stride 2 padding 1", (2, 2, 3, 3), (2, 3, 4, 4), dict(stride=2, padding=1)),
    ("k3 stride 2 padding 1 output_padding 1", (2, 2, 3, 3), (2, 2, 3, 3),
     dict(stride=2, padding=1, output_padding=1)),
    ("k(3,2) stride (2,3) output_padding (1,2)", (2, 2, 3, 3), (2, 2, 3, 2),
     dict(stride=(2, 3), output_padding=(1, 2))),
    ("k3 dilation 2 output_padding 1 >= stride", (2, 2, 3, 3), (2, 2, 3, 3),
     dict(dilation=2, padding=1, output_padding=1)),
    ("k2 stride 2 groups 2 output_padding (1,0)", (2, 4, 3, 3), (4, 1, 2, 2),
     dict(stride=2, groups=2, output_padding=(1, 0))),
]

for case, x_shape, w_shape, options in CONV_TRANSPOSE2D:
    groups = options.get("groups", 1)
    register("conv_transpose2d", case, lambda x, w, b, o=options: conv_transpose2d(x, w, b, **o),
             Arg(x_shape), Arg(w_shape), Arg((w_shape[1] * groups,)))
register("conv_transpose2d", "k3 stride 2 no bias", lambda x, w: conv_transpose2d(x, w, stride=2),
         Arg((2, 2, 3, 3)), Arg((2, 2, 3, 3)))
