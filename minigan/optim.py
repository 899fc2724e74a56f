"""Optimizers with PyTorch's update rules (`SGD`, `Adam`, `RMSprop`) and `EMA`, an exponential
moving average of a module's weights (the averaged generator of ProGAN/StyleGAN/BigGAN).

Updates work on the parameters' arrays in place: nothing is recorded for autograd, and each
parameter costs a handful of array operations. State (moments, momentum buffers) is held as
arrays on the parameter's device; `state_dict()` saves it by parameter position, as PyTorch does.

    opt = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt.zero_grad(); loss.backward(); opt.step()
"""
import math
from collections import OrderedDict

import numpy as np

from minigan import backend, fused, profiler
from minigan.autograd import Tensor, enable_grad
from minigan.ops.scratch import scratch_like


class Optimizer:
    """Holds `param_groups` (a list of dicts: "params" plus the hyperparameters, which may be
    edited between steps, e.g. group["lr"] for a schedule) and per-parameter `state`."""

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}  # Parameter -> dict of arrays (and the int "step")
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name}: params must be an iterable of Tensors or of dicts, got a single Tensor")
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self):
        return type(self).__name__

    def add_param_group(self, group):
        """Add a dict {"params": [...], option: value, ...}; missing options take the defaults."""
        group = dict(group)
        params = group.get("params")
        params = [params] if isinstance(params, Tensor) else list(params if params is not None else [])
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{self._name}: can only optimize Tensors, but parameter {i} of a group "
                                f"is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{self._name}: can't optimize a non-leaf Tensor (parameter {i}, shape {p.shape})")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in seen for p in params):
            raise ValueError(f"{self._name}: some parameters appear more than once (in one or several groups)")
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_options(group)
        self.param_groups.append(group)

    def _check_options(self, group):
        for key in ("lr", "eps", "weight_decay", "momentum", "alpha", "dampening"):
            if key in group and not group[key] >= 0.0:
                raise ValueError(f"{self._name}: {key} must be >= 0, got {group[key]}")

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor(p.grad.xp.zeros_like(p.grad.data))

    @profiler.timed_step
    def step(self, closure=None):
        """One update of every parameter that has a gradient. `closure` (optional) re-evaluates
        the model and returns the loss, which step returns."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.shape != p.shape:
                    raise RuntimeError(f"{self._name}: gradient shape {p.grad.shape} does not match "
                                       f"parameter shape {p.shape}")
                self._update(p.data, p.grad.data, self.state.setdefault(p, {}), group)
        return loss

    def _update(self, param, grad, state, group):
        raise NotImplementedError

    # -------------------------------------------------------------------- state dict
    def state_dict(self):
        """{"state": {position: {name: array or int}}, "param_groups": [{options, "params": [positions]}]}.
        The arrays are the live state (as in PyTorch): save or copy them before stepping again."""
        position, groups, start = {}, [], 0
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = list(range(start, start + len(group["params"])))
            position.update((id(p), start + i) for i, p in enumerate(group["params"]))
            start += len(group["params"])
            groups.append(packed)
        state = {position[id(p)]: dict(values) for p, values in self.state.items() if id(p) in position}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore state and options saved by `state_dict()` into an optimizer built over the same
        parameters (same groups, same order). State is copied to each parameter's device and dtype."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{self._name}.load_state_dict: the saved state has {len(saved_groups)} parameter "
                             f"groups, this optimizer has {len(self.param_groups)}")
        by_position = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"{self._name}.load_state_dict: parameter group {i} has {len(group['params'])} "
                                 f"parameters but the saved group has {len(saved['params'])}")
            by_position.update(zip((int(k) for k in saved["params"]), group["params"]))
        state = {}
        for key, values in state_dict["state"].items():
            if int(key) not in by_position:
                raise ValueError(f"{self._name}.load_state_dict: saved state for parameter {key}, "
                                 f"which no parameter group lists")
            p = by_position[int(key)]
            state[p] = {name: _state_value(self._name, int(key), name, value, p) for name, value in values.items()}
        self.state = state
        for group, saved in zip(self.param_groups, saved_groups):
            group.update({key: _plain(value) for key, value in saved.items() if key != "params"})

    def __repr__(self):
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {value}" for key, value in sorted(group.items()) if key != "params"]
        return "\n".join(lines) + "\n)"


def _state_value(optimizer, position, name, value, param):
    """A saved state entry as a fresh array on param's device (float arrays in param's dtype)."""
    value = value.data if isinstance(value, Tensor) else value
    if name == "step":
        return int(value)
    if not hasattr(value, "shape"):
        return value
    if tuple(value.shape) != param.shape:
        raise ValueError(f"{optimizer}.load_state_dict: state {name!r} of parameter {position} has shape "
                         f"{tuple(value.shape)} but the parameter has shape {param.shape}")
    array = backend.to_device(value, param.device)
    dtype = param.dtype if array.dtype.kind == "f" else array.dtype
    return array.astype(dtype, copy=True)


def _plain(value):
    """Options loaded from a file may be arrays or lists; betas must be a tuple again."""
    if isinstance(value, list):
        return tuple(value)
    return value


class SGD(Optimizer):
    """Stochastic gradient descent with momentum (PyTorch's form: the buffer accumulates
    gradients, b <- momentum b + (1 - dampening) g, and p <- p - lr b), Nesterov momentum and
    L2 weight decay (g <- g + weight_decay p)."""

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov momentum requires momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _update(self, param, grad, state, group):
        momentum, weight_decay = group["momentum"], group["weight_decay"]
        if weight_decay:
            grad = grad + weight_decay * param
        if momentum:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = grad.copy()
            else:
                buffer *= momentum
                buffer += (1 - group["dampening"]) * grad
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        param -= group["lr"] * grad


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) with bias correction, L2 weight decay (added to the gradient,
    as torch.optim.Adam; not AdamW's decoupled decay) and the AMSGrad variant."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"Adam: betas must be in [0, 1), got {tuple(betas)}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def _update(self, param, grad, state, group):
        xp = backend.get_array_module(param)
        beta1, beta2 = group["betas"]
        if not state:
            state.update(step=0, exp_avg=xp.zeros_like(param), exp_avg_sq=xp.zeros_like(param))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(param)
        state["step"] += 1
        step = state["step"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        # PyTorch's p -= c m / (sqrt(v) / s + eps), c = lr / (1 - beta1^t), s = sqrt(1 - beta2^t),
        # as p -= m / (sqrt(v) / (c s) + eps / c): two passes fewer
        step_size = group["lr"] / (1 - beta1 ** step)
        scale = 1.0 / (step_size * math.sqrt(1 - beta2 ** step))
        shift = group["eps"] / step_size
        if xp is not np:   # one fused kernel instead of ten launches
            fused.adam_update(param, grad, state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq"),
                              beta1, beta2, scale, shift)
            return
        arrays = [param, grad, state["exp_avg"], state["exp_avg_sq"]]
        if group["amsgrad"]:
            arrays.append(state["max_exp_avg_sq"])
        for p, g, m, v, *v_max in _chunks(arrays):
            tmp = scratch_like(xp, "optimizer", p)   # fresh multi-MB temporaries would page-fault each step
            xp.subtract(g, m, out=tmp)
            tmp *= 1 - beta1
            m += tmp
            v *= beta2
            xp.multiply(g, 1 - beta2, out=tmp)
            tmp *= g
            v += tmp
            if v_max:
                v = xp.maximum(v_max[0], v, out=v_max[0])
            xp.sqrt(v, out=tmp)
            tmp *= scale
            tmp += shift
            p -= xp.divide(m, tmp, out=tmp)


CHUNK_SIZE = 1 << 16   # elements: a chunk of each array in the update fits in L2 (mlp-gan step -3 to -7%)


def _chunks(arrays):
    """The arrays (same shape) as matching flat slices of CHUNK_SIZE elements, so an update's passes run
    over data still in cache; whole, when any is not a C-contiguous NumPy array (CuPy, odd strides)."""
    if not all(isinstance(a, np.ndarray) and a.flags.c_contiguous for a in arrays):
        yield arrays
        return
    flat = [a.reshape(-1) for a in arrays]
    for start in range(0, flat[0].size, CHUNK_SIZE):
        yield [a[start:start + CHUNK_SIZE] for a in flat]


class RMSprop(Optimizer):
    """RMSprop (Tieleman and Hinton, 2012) as in PyTorch: p <- p - lr g / (sqrt(E[g^2]) + eps),
    optionally centered (E[g^2] - E[g]^2 under the root) and with momentum."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _update(self, param, grad, state, group):
        xp = backend.get_array_module(param)
        alpha = group["alpha"]
        if not state:
            state.update(step=0, square_avg=xp.zeros_like(param))
            if group["momentum"] > 0:
                state["momentum_buffer"] = xp.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(param)
        state["step"] += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += (1 - alpha) * (grad - grad_avg)
            avg = xp.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = xp.sqrt(square_avg)
        avg += group["eps"]
        if group["momentum"] > 0:
            buffer = state["momentum_buffer"]
            buffer *= group["momentum"]
            buffer += grad / avg
            param -= group["lr"] * buffer
        else:
            param -= group["lr"] * (grad / avg)


class EMA:
    """An exponential moving average of a module's weights, for sampling from a smoothed generator:
    after each training step, `ema.update()` sets shadow <- decay shadow + (1 - decay) param for
    every parameter and copies every buffer (running statistics are not averaged, as in
    StyleGAN's G_ema). `ema.copy_to(G_ema)` writes the averages into a module of the same layout.
    """

    def __init__(self, module, decay=0.999):
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"EMA: decay must be in [0, 1], got {decay}")
        self.module, self.decay, self.num_updates = module, decay, 0
        entries = module.state_dict(keep_vars=True)
        parameter_ids = {id(p) for p in module.parameters()}
        self.averaged = {name for name, tensor in entries.items() if id(tensor) in parameter_ids}
        self.shadow = OrderedDict((name, tensor.data.copy()) for name, tensor in entries.items())

    def update(self):
        """Fold the tracked module's current weights into the average."""
        weight = 1.0 - self.decay
        for name, tensor in self.module.state_dict(keep_vars=True).items():
            shadow = self.shadow[name]
            if backend.device_of(shadow) != tensor.device:  # the module was moved since
                shadow = self.shadow[name] = backend.to_device(shadow, tensor.device)
            if name in self.averaged:
                shadow += weight * (tensor.data - shadow)
            else:
                shadow[...] = tensor.data
        self.num_updates += 1

    def copy_to(self, module=None):
        """Write the averaged weights into `module` (default: the tracked module itself)."""
        (self.module if module is None else module).load_state_dict(self.shadow)

    def state_dict(self):
        return {"decay": self.decay, "num_updates": self.num_updates, "shadow": OrderedDict(self.shadow)}

    def load_state_dict(self, state_dict):
        shadow = state_dict["shadow"]
        if set(shadow) != set(self.shadow):
            missing, unexpected = sorted(set(self.shadow) - set(shadow)), sorted(set(shadow) - set(self.shadow))
            raise ValueError(f"EMA.load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        for name, value in shadow.items():
            value = value.data if isinstance(value, Tensor) else value
            if tuple(value.shape) != self.shadow[name].shape:
                raise ValueError(f"EMA.load_state_dict: {name} has shape {tuple(value.shape)}, "
                                 f"expected {self.shadow[name].shape}")
            target = self.shadow[name]
            self.shadow[name] = backend.to_device(value, backend.device_of(target)).astype(target.dtype, copy=True)
        self.decay, self.num_updates = float(state_dict["decay"]), int(state_dict["num_updates"])
