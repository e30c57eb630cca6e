"""Multi-scale structural similarity (MS-SSIM, Wang, Simoncelli & Bovik 2003) as a differentiable loss.

Why our own: it is a perceptual loss that needs no downloaded weights. Small images (sprites at 64 px)
cannot hold five scales of an 11-tap window, so the number of scales (and if needed the window) shrinks
to what fits and the scale weights are renormalised.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Per-scale exponents from the MS-SSIM paper, finest scale first.
SCALE_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def gaussian_window(size: int, sigma: float, device: torch.device | None = None) -> torch.Tensor:
    """Normalised 1-D Gaussian taps [size]."""
    x = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2.0
    g = torch.exp(-(x**2) / (2.0 * sigma**2))
    return g / g.sum()


def scale_plan(size: int, window: int = 11, max_scales: int = 5) -> tuple[int, int]:
    """(number of scales, window size) that fit an image of `size` pixels (smallest side)."""
    if size < window:
        window = max(1, size if size % 2 == 1 else size - 1)
        return 1, window
    scales = 1
    while scales < max_scales and size // (2**scales) >= window:
        scales += 1
    return scales, window


def _blur(x: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur without padding, one grouped convolution per direction."""
    c = x.shape[1]
    k = taps.numel()
    kx = taps.view(1, 1, 1, k).expand(c, 1, 1, k)
    ky = taps.view(1, 1, k, 1).expand(c, 1, k, 1)
    return F.conv2d(F.conv2d(x, kx, groups=c), ky, groups=c)


def _ssim_terms(
    x: torch.Tensor, y: torch.Tensor, taps: torch.Tensor, data_range: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean luminance*contrast*structure (ssim) and contrast*structure (cs) per image and channel: [N, C]."""
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    # blur all five maps in one call
    mu_x, mu_y, exx, eyy, exy = _blur(torch.cat([x, y, x * x, y * y, x * y], dim=1), taps).chunk(5, dim=1)
    sxx = exx - mu_x * mu_x
    syy = eyy - mu_y * mu_y
    sxy = exy - mu_x * mu_y
    cs_map = (2 * sxy + c2) / (sxx + syy + c2)
    lum_map = (2 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1)
    return (lum_map * cs_map).mean(dim=(2, 3)), cs_map.mean(dim=(2, 3))


def ms_ssim(
    x: torch.Tensor,
    y: torch.Tensor,
    data_range: float = 2.0,
    window: int = 11,
    sigma: float = 1.5,
    for_loss: bool = False,
) -> torch.Tensor:
    """MS-SSIM of two batches [N, C, H, W] -> [N] in (0, 1]; identical images give 1.

    `for_loss` maps each factor from [-1, 1] to [0, 1] before the product: far from the target a
    factor can be <= 0, and a floored factor would zero the gradient of the whole product.
    """
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(
            f"ms_ssim needs two [N, C, H, W] tensors of one shape, got {list(x.shape)} and {list(y.shape)}"
        )
    scales, window = scale_plan(min(x.shape[2:]), window)
    weights = torch.tensor(SCALE_WEIGHTS[:scales], dtype=torch.float32, device=x.device)
    weights = weights / weights.sum()
    taps = gaussian_window(window, sigma, x.device)
    factors = []
    for s in range(scales):
        ssim_val, cs = _ssim_terms(x, y, taps, data_range)
        last = s == scales - 1
        factor = ssim_val if last else cs
        if for_loss:
            factor = (factor + 1) * 0.5
        # a small floor keeps the fractional power finite when structure anti-correlates (factor <= 0)
        factors.append(factor.clamp_min(1e-6))
        if not last:
            x = F.avg_pool2d(x, 2)
            y = F.avg_pool2d(y, 2)
    stacked = torch.stack(factors, dim=0)  # [S, N, C]
    value = torch.prod(stacked ** weights.view(-1, 1, 1), dim=0)
    return value.mean(dim=1)
