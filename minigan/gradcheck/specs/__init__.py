"""Gradient-check specs, one module per op family; each registers its checks on import."""
