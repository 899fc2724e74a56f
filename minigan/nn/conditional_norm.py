"""`ConditionalBatchNorm2d`: batch normalisation whose gain and bias depend on the class
(de Vries et al. 2017; the class-conditional generator of SNGAN's projection paper, Miyato and
Koyama 2018, and of BigGAN, Brock et al. 2019)."""
from minigan import ops
from minigan.nn import init
from minigan.nn.embedding import Embedding
from minigan.nn.module import Module
from minigan.nn.norm import BatchNorm2d


class ConditionalBatchNorm2d(Module):
    """BatchNorm2d without its own affine, followed by gain[y] * x_hat + bias[y].

    x (N, C, H, W) and integer labels y (N,) -> (N, C, H, W). `gain` and `bias` are Embeddings
    (num_classes, C) starting at 1 and 0, so a fresh layer is a plain batch norm. Running
    statistics, momentum and eval mode are BatchNorm2d's (`self.bn`).
    """

    def __init__(self, num_features, num_classes, eps=1e-5, momentum=0.1, device=None, dtype=None):
        super().__init__()
        self.num_features, self.num_classes = num_features, num_classes
        self.bn = BatchNorm2d(num_features, eps, momentum, affine=False, device=device, dtype=dtype)
        self.gain = Embedding(num_classes, num_features, device=device, dtype=dtype)
        self.bias = Embedding(num_classes, num_features, device=device, dtype=dtype)
        init.ones_(self.gain.weight)
        init.zeros_(self.bias.weight)

    def forward(self, x, y):
        if y.ndim != 1 or x.ndim != 4 or y.shape[0] != x.shape[0]:
            raise ValueError(f"ConditionalBatchNorm2d: expected x (N, {self.num_features}, H, W) and labels y (N,), "
                             f"got shapes {x.shape} and {y.shape}")
        shape = (x.shape[0], self.num_features, 1, 1)
        return self.bn(x) * ops.reshape(self.gain(y), shape) + ops.reshape(self.bias(y), shape)

    def extra_repr(self):
        return f"{self.num_features}, num_classes={self.num_classes}"
