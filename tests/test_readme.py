"""The README's Python snippets run as written (in order, sharing one namespace)."""
import pathlib
import re

import minigan as mg

README = pathlib.Path(__file__).parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_snippets_run(tmp_path, monkeypatch):
    blocks = python_blocks()
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in blocks:
        if 'device="cuda"' in block and not mg.cuda.is_available():
            continue
        exec(compile(block, str(README), "exec"), namespace)
