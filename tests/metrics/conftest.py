import pytest

from minigan.metrics import classifier

TINY_STEPS = 150     # ~90% held-out accuracy in a few seconds: enough to tell digits apart in tests


@pytest.fixture(autouse=True)
def embedded_data(monkeypatch):
    """Every metrics test uses the embedded MNIST subset, whatever the environment says."""
    monkeypatch.delenv("MINIGAN_DATA", raising=False)


@pytest.fixture(scope="session")
def tiny_steps():
    return TINY_STEPS


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("classifier-cache")


@pytest.fixture(scope="session")
def tiny_classifier(tiny_cache):
    """A quickly trained digit classifier, cached in a temporary folder for the whole session."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MINIGAN_DATA", raising=False)
        return classifier("mnist", steps=TINY_STEPS, cache=tiny_cache, verbose=False)
