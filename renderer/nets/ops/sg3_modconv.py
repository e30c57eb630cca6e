"""StyleGAN3's modulated convolution (style-scaled, demodulated weights), in equivalent forms.

Why two forms: the textbook formulation modulates the weights once per sample and runs one grouped
convolution with `groups=batch`. The second form scales the input activations by the styles, runs one
shared-weight convolution over the whole batch and scales the outputs by the demodulation
coefficients; mathematically identical, it turns a batch into one ordinary convolution. Measured on
the 2-core CPU box (1 thread, stylegan3-t-64 synthesis): batch 1 fused 0.206 s / scaled 0.208 s,
batch 8 fused 1.57 s / scaled 1.50 s; so batches use the scaled form, single images the fused one.
Except on the CPU for maps far larger than the cache, where a batch has no per-call overhead left to
amortise and the scaled form's two extra passes over the activations dominate: there each sample runs
the fused form on its own ("per_sample"; a 256-px StyleGAN3-T's 1x1 output layer ran 2.3x slower per
image batched than single, its 276-px layers 1.13-1.2x).

Each sample's styles are pre-normalised on their own (the official code normalises by the mean over
the whole batch); demodulation cancels that factor exactly, so results agree to float rounding and a
sample renders the same whatever else shares its batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Formulations: "fused" modulates weights per sample (grouped conv); "scaled" scales activations;
# "per_sample" runs the fused form one sample at a time.
MODES = ("auto", "fused", "scaled", "per_sample")
# Per-sample input bytes above which a CPU batch runs sample by sample (see pick_mode).
PER_SAMPLE_BYTES = 8 << 20


def pick_mode(batch_size: int, device: torch.device, sample_bytes: int = 0) -> str:
    """Formulation for a batch on a device; sample_bytes is one sample's input (see the module docstring)."""
    if batch_size == 1:
        return "fused"
    if device.type == "cpu" and sample_bytes > PER_SAMPLE_BYTES:
        return "per_sample"
    return "scaled"


def _gain_row(input_gain: torch.Tensor | None, i: int) -> torch.Tensor | None:
    """Sample i's input gain (a scalar gain is shared by every sample)."""
    if input_gain is None or input_gain.ndim == 0:
        return input_gain
    return input_gain[i : i + 1]


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    demodulate: bool = True,
    padding: int = 0,
    input_gain: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    mode: str = "auto",
) -> torch.Tensor:
    """Convolve x [N, I, H, W] with weight [O, I, k, k] modulated by styles [N, I]; add bias [O] if given.

    `input_gain` (a scalar tensor or [N, I]) scales the input channels after demodulation, as the
    StyleGAN3 layers' magnitude normalisation does. The weight math runs in float32; the convolution
    in x's dtype.
    """
    n, in_ch = x.shape[0], x.shape[1]
    out_ch, w_in, kh, kw = weight.shape
    if w_in != in_ch or styles.shape != (n, in_ch):
        raise ValueError(
            f"modulated_conv2d: x {list(x.shape)}, weight {list(weight.shape)} and styles "
            f"{list(styles.shape)} do not fit together"
        )
    if mode not in MODES:
        raise ValueError(f"unknown modulated-conv mode {mode!r}; use one of {MODES}")
    if mode == "auto":
        mode = pick_mode(n, x.device, x[0].numel() * x.element_size())
    if mode == "per_sample" and n > 1:
        first = modulated_conv2d(x[:1], weight, styles[:1], demodulate, padding, _gain_row(input_gain, 0), bias, "fused")
        fmt = torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format
        out = torch.empty([n, *first.shape[1:]], dtype=first.dtype, device=first.device, memory_format=fmt)
        out[:1] = first
        for i in range(1, n):
            gain = _gain_row(input_gain, i)
            out[i : i + 1] = modulated_conv2d(x[i : i + 1], weight, styles[i : i + 1], demodulate, padding, gain, bias, "fused")
        return out
    w = weight.to(torch.float32)
    s = styles.to(torch.float32)
    dcoefs = None
    if demodulate:
        w = w * w.square().mean(dim=[1, 2, 3], keepdim=True).rsqrt()
        s = s * s.square().mean(dim=1, keepdim=True).rsqrt()
        # sum over i, kh, kw of (w[o,i] * s[n,i])^2 == s^2 @ (sum_k w^2)^T
        dcoefs = (s.square() @ w.square().sum(dim=[2, 3]).t() + 1e-8).rsqrt()  # [N, O]
    if input_gain is not None:
        s = s * input_gain.to(torch.float32)
    dtype = x.dtype
    if mode == "scaled":
        y = F.conv2d(x * s.to(dtype)[:, :, None, None], w.to(dtype), padding=padding)
        if dcoefs is not None and bias is not None:
            return torch.addcmul(bias.to(dtype)[None, :, None, None], y, dcoefs.to(dtype)[:, :, None, None])
        if dcoefs is not None:
            return y * dcoefs.to(dtype)[:, :, None, None]
        if bias is not None:
            return y + bias.to(dtype)[None, :, None, None]
        return y
    # fused: per-sample weights, one (grouped) convolution
    wm = w[None] * s[:, None, :, None, None]  # [N, O, I, k, k]
    if dcoefs is not None:
        wm = wm * dcoefs[:, :, None, None, None]
    wm = wm.reshape(n * out_ch, in_ch, kh, kw).to(dtype)
    b = None if bias is None else bias.to(dtype).repeat(n)
    # (n == 1: no reshape; it would give the batch axis a stride that hides channels-last memory
    # from oneDNN, which then converts to NCHW and runs 2-3x slower)
    xg = x if n == 1 else x.reshape(1, n * in_ch, *x.shape[2:])
    y = F.conv2d(xg, wm, bias=b, padding=padding, groups=n)
    return y.reshape(n, out_ch, *y.shape[2:])
