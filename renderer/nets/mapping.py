"""z -> w mapping network shared by StyleGAN2(-ADA) and StyleGAN3 (identical parameter names).

Parameter names follow the official state_dict (`fc{i}.weight`, `embed.bias`, `w_avg`, ...) so official
weights load with `strict=True`; constructor keywords accept both code bases' spellings.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from renderer.nets.ops.bias_act import bias_act


def normalize_2nd_moment(x: torch.Tensor, dim: int = 1, eps: float = 1e-8) -> torch.Tensor:
    """Scale each vector to unit root-mean-square (how StyleGAN normalises z and label embeddings)."""
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()


class FullyConnectedLayer(nn.Module):
    """Dense layer with equalised learning rate: weights stored unscaled, scaled by `weight_gain` at run time."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        activation: str = "linear",
        lr_multiplier: float = 1.0,
        bias_init: float | np.ndarray = 0.0,
        weight_init: float = 1.0,
    ) -> None:
        super().__init__()
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.activation = activation
        self.weight = nn.Parameter(torch.randn([self.out_features, self.in_features]) * (weight_init / lr_multiplier))
        if bias:
            init = np.broadcast_to(np.asarray(bias_init, dtype=np.float32), [self.out_features])
            self.bias = nn.Parameter(torch.from_numpy(init.copy()) / lr_multiplier)
        else:
            self.bias = None
        self.weight_gain = lr_multiplier / np.sqrt(self.in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain
        b = self.bias
        if b is not None:
            b = b.to(x.dtype)
            if self.bias_gain != 1:
                b = b * self.bias_gain
        if self.activation == "linear" and b is not None:
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return bias_act(x.matmul(w.t()), b, act=self.activation)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, activation={self.activation}"


class MappingNetwork(nn.Module):
    """MLP from (z, c) to w, broadcast to `num_ws` rows, with the truncation trick around `w_avg`."""

    def __init__(
        self,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        num_ws: int | None,
        num_layers: int = 8,
        embed_features: int | None = None,
        layer_features: int | None = None,
        activation: str = "lrelu",
        lr_multiplier: float = 0.01,
        w_avg_beta: float | None = 0.998,
        **_ignored: object,
    ) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = int(z_dim), int(c_dim), int(w_dim)
        self.num_ws = None if num_ws is None else int(num_ws)
        self.num_layers = int(num_layers)
        self.w_avg_beta = w_avg_beta
        if embed_features is None:
            embed_features = self.w_dim
        if self.c_dim == 0:
            embed_features = 0
        if layer_features is None:
            layer_features = self.w_dim
        features = [self.z_dim + embed_features] + [layer_features] * (self.num_layers - 1) + [self.w_dim]
        if self.c_dim > 0:
            self.embed = FullyConnectedLayer(self.c_dim, embed_features)
        else:
            self.embed = None
        for i in range(self.num_layers):
            fc = FullyConnectedLayer(features[i], features[i + 1], activation=activation, lr_multiplier=lr_multiplier)
            setattr(self, f"fc{i}", fc)
        # Only a mapping that broadcasts to w rows tracks an average (the discriminator's label mapping does not),
        # matching which official state_dicts carry `w_avg`.
        self.tracks_w_avg = self.num_ws is not None and w_avg_beta is not None
        if self.tracks_w_avg:
            self.register_buffer("w_avg", torch.zeros([self.w_dim]))

    def forward(
        self,
        z: torch.Tensor | None,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1,
        truncation_cutoff: int | None = None,
        update_emas: bool = False,
    ) -> torch.Tensor:
        x = None
        if self.z_dim > 0:
            if z is None or z.ndim != 2 or z.shape[1] != self.z_dim:
                raise ValueError(f"z must have shape [N, {self.z_dim}], got {None if z is None else list(z.shape)}")
            x = normalize_2nd_moment(z.to(torch.float32))
        if self.c_dim > 0:
            if c is None or c.ndim != 2 or c.shape[1] != self.c_dim:
                raise ValueError(f"this network is conditional: c must have shape [N, {self.c_dim}]")
            y = normalize_2nd_moment(self.embed(c.to(torch.float32)))
            x = torch.cat([x, y], dim=1) if x is not None else y
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        if update_emas and self.tracks_w_avg:
            self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        if self.num_ws is not None:
            x = x.unsqueeze(1).repeat([1, self.num_ws, 1])
        if truncation_psi != 1:
            if not self.tracks_w_avg:
                raise ValueError("this mapping network keeps no w_avg, so it cannot truncate")
            if self.num_ws is None or truncation_cutoff is None:
                x = self.w_avg.lerp(x, truncation_psi)
            else:
                x = x.clone()
                x[:, :truncation_cutoff] = self.w_avg.lerp(x[:, :truncation_cutoff], truncation_psi)
        return x

    def extra_repr(self) -> str:
        return f"z_dim={self.z_dim}, c_dim={self.c_dim}, w_dim={self.w_dim}, num_ws={self.num_ws}"
