"""`mg.to_dot`: the autograd graph behind a tensor, as Graphviz DOT (for learners)."""
import shutil
import subprocess

from minigan.autograd import Tensor


def _tensor_label(t, name=None):
    kind = "leaf" if t.creator is None else "tensor"
    head = f"{name}\\n" if name else ""
    return f"{head}{kind} {tuple(t.shape)}\\n{t.dtype}"


def to_dot(output, path=None, render=False, names=None):
    """Describe the graph behind `output` in DOT: ovals are tensors (shape, dtype), boxes are ops.

    `names` maps tensors to labels (e.g. `{x: "x", w: "w"}`). With `path`, the text is written there;
    with `render=True` a PNG is also written beside it (`path` with `.png`) when Graphviz's `dot`
    program is installed. Returns the DOT text.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(output).__name__}")
    names = {id(t): n for t, n in (names or {}).items()}
    lines = ["digraph autograd {", '  rankdir="LR";', '  node [fontname="Helvetica", fontsize=10];']
    seen, stack = set(), [output]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        fill = "lightblue" if t.creator is None and t.requires_grad else "white"
        lines.append(f'  t{id(t)} [label="{_tensor_label(t, names.get(id(t)))}", shape=oval, '
                     f'style=filled, fillcolor={fill}];')
        function = t.creator
        if function is None:
            continue
        lines.append(f'  f{id(function)} [label="{function.name}", shape=box, style=filled, fillcolor=lightyellow];')
        lines.append(f"  f{id(function)} -> t{id(t)};")
        for x in function.inputs or ():
            lines.append(f"  t{id(x)} -> f{id(function)};")
            stack.append(x)
    lines.append("}")
    text = "\n".join(dict.fromkeys(lines)) + "\n"  # a function with several outputs is listed once
    if path is not None:
        with open(path, "w") as f:
            f.write(text)
        if render:
            _render_png(path)
    return text


def _render_png(path):
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("to_dot: render=True needs Graphviz's `dot` program (apt-get install graphviz); "
                           f"the DOT text was written to {path}")
    png = str(path).rsplit(".", 1)[0] + ".png"
    subprocess.run([dot, "-Tpng", str(path), "-o", png], check=True)
    return png
