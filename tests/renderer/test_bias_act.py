"""bias_act: bias + activation + gain + clamp, partly in place, must equal the plain definition."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from renderer.nets.ops.bias_act import bias_act

DEFINITIONS = {
    "linear": lambda t: t,
    "relu": F.relu,
    "lrelu": lambda t: F.leaky_relu(t, 0.2),
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
}


@pytest.mark.parametrize("act", sorted(DEFINITIONS))
@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("gain", [1.0, 2.0])
@pytest.mark.parametrize("clamp", [None, 0.5])
def test_equals_definition_and_never_touches_its_input(act, with_bias, gain, clamp) -> None:
    x = torch.randn(2, 3, 4, 4)
    b = torch.randn(3) if with_bias else None
    keep = x.clone()
    out = bias_act(x, b, act=act, gain=gain, clamp=clamp)
    assert torch.equal(x, keep), "the caller's tensor (perhaps a cached state) must stay intact"
    ref = DEFINITIONS[act](x + (b.reshape(1, -1, 1, 1) if b is not None else 0)) * gain
    if clamp is not None:
        ref = ref.clamp(-clamp, clamp)
    assert torch.equal(out, ref)


def test_gradients_flow_through_every_step() -> None:
    x = torch.randn(2, 3, 4, 4, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    bias_act(x, b, act="lrelu", gain=2.0, clamp=0.5).square().sum().backward()
    xr, br = x.detach().clone().requires_grad_(True), b.detach().clone().requires_grad_(True)
    (F.leaky_relu(xr + br.reshape(1, -1, 1, 1), 0.2) * 2.0).clamp(-0.5, 0.5).square().sum().backward()
    assert torch.equal(x.grad, xr.grad) and torch.equal(b.grad, br.grad)
