"""FIR filter design for StyleGAN3's alias-free layers, in plain numpy (no scipy).

Why: a StyleGAN3 layer's `up_filter` / `down_filter` buffers are deterministic functions of its
sampling rates and cutoffs. Designing them here lets a freshly built network match an official one
bit for bit (up to float32 rounding) without scipy. Two designs exist:

* a separable Kaiser-windowed sinc low-pass (the window method with Kaiser's empirical formulas for
  attenuation and beta, normalised to unit DC gain), stored as 1-D taps;
* a radially symmetric "jinc" low-pass (the 2-D analogue of the sinc, built from the Bessel function
  J1), windowed by the outer product of two Kaiser windows, stored as a 2-D array.
"""

from __future__ import annotations

import numpy as np


def kaiser_attenuation(numtaps: int, width: float) -> float:
    """Stop-band attenuation (dB) a Kaiser-window filter of `numtaps` reaches for a transition `width`.

    `width` is relative to the Nyquist frequency (1.0 == Nyquist).
    """
    return 2.285 * (numtaps - 1) * np.pi * width + 7.95


def kaiser_beta(attenuation_db: float) -> float:
    """Kaiser's empirical shape parameter for a wanted stop-band attenuation in dB."""
    a = float(attenuation_db)
    if a > 50:
        return 0.1102 * (a - 8.7)
    if a > 21:
        return 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21)
    return 0.0


def bessel_j1(x: np.ndarray | float) -> np.ndarray:
    """Bessel function of the first kind, order 1, in float64.

    Uses Bessel's integral J1(x) = 1/(2*pi) * integral over one period of cos(t - x*sin(t)); the
    integrand is periodic and analytic, so the plain trapezoidal rule converges geometrically once the
    number of nodes exceeds |x| by a margin. With |x| + 64 nodes the result is exact to float64
    rounding for every argument.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return x.copy()
    nodes = int(np.ceil(np.max(np.abs(x)))) + 64
    t = np.arange(nodes, dtype=np.float64) * (2 * np.pi / nodes)
    integrand = np.cos(t - x[..., None] * np.sin(t))
    return integrand.mean(axis=-1)


def lowpass_kaiser_sinc(numtaps: int, cutoff: float, width: float, fs: float) -> np.ndarray:
    """Linear-phase low-pass FIR (window method, Kaiser window), unit gain at DC, float64 [numtaps].

    `cutoff` and the full transition `width` are in the same units as the sampling rate `fs`.
    """
    if numtaps < 1:
        raise ValueError(f"numtaps must be >= 1, got {numtaps}")
    nyquist = fs / 2
    cutoff_rel = cutoff / nyquist
    width_rel = width / nyquist
    if not 0 < cutoff_rel < 1:
        raise ValueError(f"cutoff {cutoff} must lie strictly between 0 and fs/2 = {nyquist}")
    beta = kaiser_beta(kaiser_attenuation(numtaps, width_rel))
    m = np.arange(numtaps, dtype=np.float64) - (numtaps - 1) / 2
    taps = cutoff_rel * np.sinc(cutoff_rel * m)
    taps *= np.kaiser(numtaps, beta)
    return taps / taps.sum()


def lowpass_radial_jinc(numtaps: int, cutoff: float, width: float, fs: float) -> np.ndarray:
    """Radially symmetric low-pass FIR (jinc times separable Kaiser window), unit DC gain, [numtaps, numtaps]."""
    if numtaps < 1:
        raise ValueError(f"numtaps must be >= 1, got {numtaps}")
    coords = (np.arange(numtaps, dtype=np.float64) - (numtaps - 1) / 2) / fs
    r = np.hypot(*np.meshgrid(coords, coords))
    arg = 2 * np.pi * cutoff * r
    with np.errstate(divide="ignore", invalid="ignore"):
        taps = np.where(r > 0, bessel_j1(arg) / (np.pi * np.where(r > 0, r, 1.0)), cutoff)
    beta = kaiser_beta(kaiser_attenuation(numtaps, width / (fs / 2)))
    window = np.kaiser(numtaps, beta)
    taps = taps * np.outer(window, window)
    return taps / taps.sum()


def design_lowpass(numtaps: int, cutoff: float, width: float, fs: float, radial: bool = False) -> np.ndarray | None:
    """The low-pass a StyleGAN3 layer uses: None for the identity (one tap), else float32 taps.

    Separable designs come back 1-D [numtaps]; radial ones 2-D [numtaps, numtaps].
    """
    if numtaps == 1:
        return None
    taps = lowpass_radial_jinc(numtaps, cutoff, width, fs) if radial else lowpass_kaiser_sinc(numtaps, cutoff, width, fs)
    return taps.astype(np.float32)
