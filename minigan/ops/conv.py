"""2-D convolution, its transpose, and the weight-gradient correlation: three Functions that are
each other's derivatives, so convolutions are differentiable to any order with nothing special.
Their array math (im2col + GEMM, the sub-pixel phases of the strided x-gradient, the CUDA
dispatch) lives in `conv_arrays`.
"""
import numbers

from minigan import backend
from minigan.autograd import Function, Tensor, is_grad_enabled
from minigan.ops.conv_arrays import (conv2d_backward_data_array, conv2d_backward_weight_array,  # noqa: F401
                                     conv2d_forward_and_columns, conv2d_forward_array, conv2d_output_size,
                                     conv_transpose2d_output_size)
from minigan.ops.reduce import sum
from minigan.ops.image_args import image_batch, int_pair
from minigan.ops.shape import getitem


# -------------------------------------------------------------------------------- Functions
def _crop(y, hw):
    """y's top-left hw corner: the adjoint of _full_output's zero-extension."""
    if tuple(y.shape[2:]) == tuple(hw):
        return y
    return getitem(y, (slice(None), slice(None), slice(0, hw[0]), slice(0, hw[1])))


def _full_output(gy, x_hw, w_shape, options):
    """gy zero-extended (bottom, right) to conv2d's output size for inputs of size x_hw.

    Only conv_transpose2d with output_padding >= stride (allowed while < dilation) asks for an
    output whose conv2d would be larger than its input; the extra rows see zeros. The array
    functions can then always assume gy has conv2d's full output shape.
    """
    full = conv2d_output_size(x_hw, w_shape[2:], *options[:3])
    if tuple(gy.shape[2:]) == full:
        return gy
    grown = backend.get_array_module(gy).zeros(gy.shape[:2] + full, dtype=gy.dtype)
    grown[:, :, :gy.shape[2], :gy.shape[3]] = gy
    return grown


class Conv2d(Function):
    """y = conv2d(x, w) (+ b). Its x-gradient is ConvTranspose2d, its w-gradient Conv2dGradWeight.
    With keep_columns (the weight will want a gradient), x as the forward gathered it (its im2col
    matrix, or its padded image for shifted GEMMs) is kept for the weight gradient, which then
    skips gathering it a second time."""

    def __init__(self, stride, padding, dilation, groups, keep_columns=False):
        self.options = (stride, padding, dilation, groups)
        self.keep_columns = keep_columns
        self.columns = None

    def forward(self, x, w, b=None):
        if self.keep_columns:
            y, self.columns = conv2d_forward_and_columns(x, w, *self.options, bias=b)
            return y
        return conv2d_forward_array(x, w, *self.options, bias=b)

    def backward(self, gy):
        x, w = self.inputs[:2]
        needs = self.needs_input_grad
        gx = ConvTranspose2d(*self.options, out_hw=x.shape[2:])(gy, w) if needs[0] else None
        gw = Conv2dGradWeight(*self.options, w_shape=w.shape, columns=self.columns)(x, gy) if needs[1] else None
        gb = sum(gy, (0, 2, 3)) if len(needs) > 2 and needs[2] else None
        return gx, gw, gb


class ConvTranspose2d(Function):
    """x = conv_transpose2d(y, w) (+ b): conv2d's adjoint in its input, producing size out_hw.

    w has conv2d's layout seen from the other side: (C_in of this op, C_out / groups, kh, kw).
    """

    def __init__(self, stride, padding, dilation, groups, out_hw):
        self.options = (stride, padding, dilation, groups)
        self.out_hw = tuple(out_hw)

    def forward(self, y, w, b=None):
        x_shape = (y.shape[0], w.shape[1] * self.options[3]) + self.out_hw
        y = _full_output(y, self.out_hw, w.shape, self.options)
        return conv2d_backward_data_array(y, w, x_shape, *self.options, bias=b)

    def backward(self, gx):
        y, w = self.inputs[:2]
        needs = self.needs_input_grad
        gy = gw = None
        conv = Conv2d(*self.options, keep_columns=needs[1])   # gx's im2col serves both gradients
        if needs[0]:
            gy = _crop(conv(gx, w), y.shape[2:])
        if needs[1]:
            gw = Conv2dGradWeight(*self.options, w_shape=w.shape, columns=conv.columns)(gx, y)
            conv.columns = None
        gb = sum(gx, (0, 2, 3)) if len(needs) > 2 and needs[2] else None
        return gy, gw, gb


class Conv2dGradWeight(Function):
    """w-gradient of conv2d: the correlation of x with gy. Bilinear in (x, gy), so its own
    gradients are a conv_transpose2d (for x) and a conv2d (for gy) with the incoming ggw."""

    def __init__(self, stride, padding, dilation, groups, w_shape, columns=None):
        self.options = (stride, padding, dilation, groups)
        self.w_shape = tuple(w_shape)
        self.columns = columns   # x as the conv2d forward gathered it, when kept

    def forward(self, x, gy):
        gy = _full_output(gy, x.shape[2:], self.w_shape, self.options)
        columns, self.columns = self.columns, None   # used once: the backward needs only x and gy
        return conv2d_backward_weight_array(x, gy, self.w_shape, *self.options, columns=columns)

    def backward(self, ggw):
        x, gy = self.inputs
        gx = ConvTranspose2d(*self.options, out_hw=x.shape[2:])(gy, ggw) if self.needs_input_grad[0] else None
        ggy = _crop(Conv2d(*self.options)(x, ggw), gy.shape[2:]) if self.needs_input_grad[1] else None
        return gx, ggy


# ------------------------------------------------------------------------------ public ops
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv2d. x (N, C_in, H, W) or (C_in, H, W); weight (C_out, C_in/groups,
    kh, kw); bias (C_out,) or None. Returns (N, C_out, Ho, Wo) with
    Ho = (H + 2*padding - dilation*(kh-1) - 1) // stride + 1."""
    op = "conv2d"
    x, unbatched = image_batch(op, x)
    stride, padding, dilation, groups = _check_geometry(op, stride, padding, dilation, groups)
    _check_tensors(op, x, weight, bias)
    c_in, c_out = x.shape[1], weight.shape[0]
    if groups > 1 and (c_in % groups or c_out % groups):
        raise ValueError(f"{op}: groups={groups} must divide both input channels ({c_in}) and "
                         f"output channels ({c_out}) (weight shape {tuple(weight.shape)})")
    if weight.shape[1] * groups != c_in:
        raise ValueError(f"{op}: input has {c_in} channels but weight expects {weight.shape[1] * groups} "
                         f"(weight shape {tuple(weight.shape)}{_groups_note(groups)})")
    _check_bias(op, bias, c_out, weight)
    kernel = weight.shape[2:]
    padded = tuple(s + 2 * p for s, p in zip(x.shape[2:], padding))
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(e > s for e, s in zip(extent, padded)):
        out_hw = conv2d_output_size(x.shape[2:], kernel, stride, padding, dilation)
        raise ValueError(f"{op}: output size would be {out_hw}: kernel {tuple(kernel)} with dilation "
                         f"{dilation} spans {extent}, more than the padded input {padded} "
                         f"(input shape {tuple(x.shape)}, padding {padding})")
    args = (x, weight) if bias is None else (x, weight, bias)
    keep_columns = is_grad_enabled() and weight.requires_grad
    y = Conv2d(stride, padding, dilation, groups, keep_columns)(*args)
    return y[0] if unbatched else y


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """torch.nn.functional.conv_transpose2d, the adjoint of conv2d in its input. x (N, C_in, H, W)
    or (C_in, H, W); weight (C_in, C_out/groups, kh, kw); bias (C_out,) or None. Returns
    (N, C_out, Ho, Wo) with Ho = (H-1)*stride - 2*padding + dilation*(kh-1) + output_padding + 1."""
    op = "conv_transpose2d"
    x, unbatched = image_batch(op, x)
    stride, padding, dilation, groups = _check_geometry(op, stride, padding, dilation, groups)
    output_padding = int_pair(op, "output_padding", output_padding, minimum=0)
    _check_tensors(op, x, weight, bias)
    c_in = x.shape[1]
    if weight.shape[0] != c_in:
        raise ValueError(f"{op}: input has {c_in} channels but weight expects {weight.shape[0]} "
                         f"(weight shape {tuple(weight.shape)}; conv_transpose2d weights are "
                         "(C_in, C_out/groups, kh, kw))")
    if c_in % groups:
        raise ValueError(f"{op}: groups={groups} must divide the input channels ({c_in}) "
                         f"(weight shape {tuple(weight.shape)})")
    c_out = weight.shape[1] * groups
    _check_bias(op, bias, c_out, weight)
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= s and op_ >= d:
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either stride "
                             f"{stride} or dilation {dilation}")
    out_hw = conv_transpose2d_output_size(x.shape[2:], weight.shape[2:], stride, padding, output_padding, dilation)
    if min(out_hw) <= 0:
        raise ValueError(f"{op}: output size would be {out_hw} (input shape {tuple(x.shape)}, weight "
                         f"shape {tuple(weight.shape)}, stride {stride}, padding {padding}, "
                         f"output_padding {output_padding}, dilation {dilation})")
    args = (x, weight) if bias is None else (x, weight, bias)
    y = ConvTranspose2d(stride, padding, dilation, groups, out_hw)(*args)
    return y[0] if unbatched else y


# ------------------------------------------------------------------------------ validation


def _check_geometry(op, stride, padding, dilation, groups):
    if not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    return (int_pair(op, "stride", stride, 1), int_pair(op, "padding", padding, 0),
            int_pair(op, "dilation", dilation, 1), int(groups))




def _check_tensors(op, x, weight, bias):
    if isinstance(weight, Tensor) and weight.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D weight, got shape {tuple(weight.shape)}")
    tensors = [("input", x), ("weight", weight)] + ([("bias", bias)] if bias is not None else [])
    for name, t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.dtype.kind != "f":
            raise ValueError(f"{op}: {name} must be floating point, got dtype {t.dtype}")
    if len({t.dtype for _, t in tensors}) > 1:
        listed = ", ".join(f"{name} {t.dtype}" for name, t in tensors)
        raise ValueError(f"{op}: input, weight and bias must share one dtype, got {listed}")


def _check_bias(op, bias, c_out, weight):
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(f"{op}: bias shape {tuple(bias.shape)} does not match the {c_out} output "
                         f"channels (weight shape {tuple(weight.shape)})")


def _groups_note(groups):
    return f", groups={groups}" if groups > 1 else ""
