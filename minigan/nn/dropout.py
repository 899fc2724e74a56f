"""`Dropout`: zeroes elements with probability p in training mode, identity in eval mode."""
from minigan import functional as F
from minigan.nn.module import Module


class Dropout(Module):
    """Each element is zeroed with probability `p` (from the device's seeded generator) and the
    rest scaled by 1/(1-p), so the expected activation is unchanged; eval mode passes x through."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, got p={p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
