"""GAN variants, one module each, registered by name: `minigan.gans.create("dcgan", data)`."""
import importlib
import pkgutil
import sys

from minigan.gans.base import DataSpec, Variant

_VARIANTS = {}


def register(cls):
    """Class decorator: make a Variant available by its `name`."""
    _VARIANTS[cls.name] = cls
    return cls


def _load_all():
    for module in pkgutil.iter_modules(__path__):
        if module.name not in ("base", "networks"):
            importlib.import_module(f"{__name__}.{module.name}")


def names():
    _load_all()
    return sorted(_VARIANTS)


def get(name):
    _load_all()
    if name not in _VARIANTS:
        raise ValueError(f"unknown variant {name!r}: expected one of {', '.join(sorted(_VARIANTS))}")
    return _VARIANTS[name]


def summary(name, width=100):
    """The first paragraph of the variant's module docstring (paper and defining idea), on one line,
    cut to `width` characters: what `minigan list` shows."""
    doc = sys.modules[get(name).__module__].__doc__ or ""
    text = " ".join(doc.strip().split("\n\n")[0].split())
    return text if len(text) <= width else text[:width - 3].rstrip() + "..."


def create(name, data, **overrides):
    return get(name)(data, **overrides)
