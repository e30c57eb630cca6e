"""Bias + activation + gain + clamp, the fused step every StyleGAN layer ends with."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# activation name -> (function(x, alpha), default alpha, default gain)
_ACTIVATIONS = {
    "linear": (lambda x, a: x, 0.0, 1.0),
    "relu": (lambda x, a: F.relu(x), 0.0, math.sqrt(2)),
    "lrelu": (lambda x, a: F.leaky_relu(x, a), 0.2, math.sqrt(2)),
    "tanh": (lambda x, a: torch.tanh(x), 0.0, 1.0),
    "sigmoid": (lambda x, a: torch.sigmoid(x), 0.0, 1.0),
}


def activation_gain(act: str) -> float:
    """Default gain of an activation, as the official code uses it for `act_gain`."""
    return _ACTIVATIONS[act][2]


def bias_act(
    x: torch.Tensor,
    b: torch.Tensor | None = None,
    dim: int = 1,
    act: str = "linear",
    alpha: float | None = None,
    gain: float | None = None,
    clamp: float | None = None,
) -> torch.Tensor:
    """Add bias `b` along `dim`, apply `act`, scale by `gain`, clamp to [-clamp, clamp]."""
    if act not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {act!r}")
    func, def_alpha, def_gain = _ACTIVATIONS[act]
    alpha = def_alpha if alpha is None else float(alpha)
    gain = def_gain if gain is None else float(gain)
    if b is not None:
        shape = [1] * x.ndim
        shape[dim] = -1
        x = x + b.reshape(shape).to(x.dtype)
    # Once x is a tensor of our own (not the caller's), the remaining steps may run in place (one
    # buffer instead of four), unless autograd has to remember the intermediates.
    grad = torch.is_grad_enabled() and x.requires_grad
    fresh = b is not None
    if act == "lrelu" and fresh and not grad:
        x = F.leaky_relu_(x, alpha)
    else:
        x = func(x, alpha)
        fresh = fresh or act != "linear"  # every other activation returns a new tensor
    if gain != 1:
        x = x.mul_(gain) if fresh and not grad else x * gain
        fresh = True
    if clamp is not None and clamp >= 0:
        x = x.clamp_(-clamp, clamp) if fresh and not grad else x.clamp(-clamp, clamp)
    return x
