"""`SelfAttention2d`: the self-attention layer of SAGAN (Zhang et al., "Self-Attention
Generative Adversarial Networks", ICML 2019, section 3), used by BigGAN in G and D.

Every position attends to every other: 1 x 1 convolutions give queries and keys of C/8
channels and values of C channels; softmax(q^T k) over the key positions weights the values;
a learned gamma, starting at 0, blends the result into the input, so a fresh layer is the
identity and the network learns how much non-local evidence to use.
"""
from minigan import ops
from minigan.nn.conv import Conv2d
from minigan.nn.module import Module
from minigan.nn.parameter import Parameter, new_array


class SelfAttention2d(Module):
    """x (N, C, H, W) -> x + gamma * attention output (N, C, H, W).

    query, key: Conv2d(C, C // reduction, 1); value: Conv2d(C, C, 1); gamma (1,) starts at 0.
    """

    def __init__(self, channels, reduction=8, device=None, dtype=None):
        super().__init__()
        if reduction < 1 or channels < reduction:
            raise ValueError(f"SelfAttention2d: channels={channels} must be at least reduction={reduction} "
                             "(queries and keys have channels // reduction channels)")
        self.channels, self.reduction = channels, reduction
        inner = channels // reduction
        self.query = Conv2d(channels, inner, 1, device=device, dtype=dtype)
        self.key = Conv2d(channels, inner, 1, device=device, dtype=dtype)
        self.value = Conv2d(channels, channels, 1, device=device, dtype=dtype)
        self.gamma = Parameter(new_array((1,), 0.0, device, dtype))

    def attention(self, x):
        """The attention map (N, HW, HW): row i holds the weights position i gives every position."""
        n, _, h, w = x.shape
        query = ops.reshape(self.query(x), (n, -1, h * w))
        key = ops.reshape(self.key(x), (n, -1, h * w))
        return ops.softmax(ops.matmul(ops.transpose(query, 1, 2), key), -1)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(f"SelfAttention2d: expected an input (N, {self.channels}, H, W), got shape {x.shape}")
        n, c, h, w = x.shape
        value = ops.reshape(self.value(x), (n, c, h * w))
        attended = ops.matmul(value, ops.transpose(self.attention(x), 1, 2))  # out_i = sum_j a_ij v_j
        return x + self.gamma * ops.reshape(attended, x.shape)

    def extra_repr(self):
        return f"{self.channels}" + (f", reduction={self.reduction}" if self.reduction != 8 else "")
