"""`Linear` (y = x W^T + b) and `Identity`."""

from minigan import functional as F
from minigan.nn import init
from minigan.nn.module import Module
from minigan.nn.parameter import Parameter, new_array


class Identity(Module):
    """Returns its input unchanged (a placeholder that keeps a network's layout)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Linear(Module):
    """y = x @ weight.T + bias for x of shape (*, in_features) -> (*, out_features).

    weight (out_features, in_features) and bias (out_features,) start as PyTorch's: uniform in
    ±1/sqrt(in_features) (kaiming_uniform_ with a=sqrt(5) gives that bound for the weight).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(new_array((out_features, in_features), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(new_array((out_features,), device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
