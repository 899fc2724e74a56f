"""`Embedding`: a lookup table of learned vectors, one row per index (class labels in cGANs)."""
import numpy as np

from minigan import functional as F, ops
from minigan.nn import init
from minigan.nn.module import Module
from minigan.nn.parameter import Parameter, new_array


class Embedding(Module):
    """weight (num_embeddings, embedding_dim), initialised N(0, 1) as in PyTorch; integer indices
    of any shape (*) give vectors of shape (*, embedding_dim). The `padding_idx` row starts at
    zero and receives no gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, device=None, dtype=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx={padding_idx} must be within num_embeddings={num_embeddings}")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.weight = Parameter(new_array((num_embeddings, embedding_dim), device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, indices):
        weight = self.weight
        if self.padding_idx is not None and weight.requires_grad:
            # the padding row is read as a constant, so its gradient is zero
            is_padding = np.arange(self.num_embeddings)[:, None] == self.padding_idx
            weight = ops.where(weight.xp.asarray(is_padding), weight.detach(), weight)
        return F.embedding(indices, weight)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
