"""Projection losses: MS-SSIM, LPIPS from local VGG16 files (read, never executed), discriminator features."""

from __future__ import annotations

import dataclasses
import warnings

import pytest
import torch
from torch import nn

from renderer.engine import Engine
from renderer.errors import ProjectionError
from renderer.nets import build_generator
from renderer.nets.discriminator import Discriminator
from renderer.network import DiscriminatorRecord, Network
from renderer.projector import ProjectionConfig, project, resolve_loss_name
from renderer.projector.losses import DiscriminatorLoss, build_loss
from renderer.projector.lpips_vgg import LPIPS_TAPS, VGG16Features, load_vgg_weights
from renderer.projector.ssim import ms_ssim, scale_plan

CHANNELS = [4, 4, 6, 6, 8, 8, 8, 8, 8, 8, 8, 8, 8]  # a narrow VGG16: same layout, tiny widths


pytestmark = pytest.mark.usefixtures("one_thread")


# ----------------------------------------------------------------------------- MS-SSIM


def test_ms_ssim_identity_ordering_and_gradients() -> None:
    torch.manual_seed(0)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    assert torch.allclose(ms_ssim(x, x), torch.ones(2))
    slightly = x + 0.05 * torch.randn_like(x)
    very = x + 0.5 * torch.randn_like(x)
    assert (ms_ssim(x, slightly) > ms_ssim(x, very)).all()
    y = very.clone().requires_grad_(True)
    (1 - ms_ssim(x, y).mean()).backward()
    assert torch.isfinite(y.grad).all() and y.grad.abs().sum() > 0


def test_ms_ssim_uses_fewer_scales_on_small_images() -> None:
    assert scale_plan(256) == (5, 11)
    assert scale_plan(64) == (3, 11)
    assert scale_plan(16) == (1, 11)
    assert scale_plan(8) == (1, 7)
    x = torch.rand(1, 1, 8, 8)
    assert torch.allclose(ms_ssim(x, x), torch.ones(1))
    assert ms_ssim(x, x.flip(3)) < 1


# ----------------------------------------------------------------------------- LPIPS / VGG16 files


class _Layers(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        chans = [3] + CHANNELS
        for i in range(13):
            setattr(self, f"conv{i + 1}", nn.Conv2d(chans[i], chans[i + 1], 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class _NvidiaStyleVGG(nn.Module):
    """Same attribute layout as NVIDIA's vgg16.pt: layers.conv1..13 and lpips0..4 at the root."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = _Layers()
        for i, tap in enumerate(LPIPS_TAPS):
            setattr(self, f"lpips{i}", nn.Parameter(torch.rand(CHANNELS[tap])))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x) * 2


def _torchvision_state(model: _NvidiaStyleVGG) -> dict[str, torch.Tensor]:
    conv_positions = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]  # torchvision's `features` indices
    out = {}
    for i, pos in enumerate(conv_positions):
        conv = getattr(model.layers, f"conv{i + 1}")
        out[f"features.{pos}.weight"] = conv.weight.detach().clone()
        out[f"features.{pos}.bias"] = conv.bias.detach().clone()
    out["classifier.0.weight"] = torch.zeros(2, 2)
    return out


@pytest.fixture(scope="module")
def vgg_files(tmp_path_factory):
    torch.manual_seed(0)
    model = _NvidiaStyleVGG()
    folder = tmp_path_factory.mktemp("vgg")
    script = folder / "vgg16.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.script is deprecated; vgg16.pt is TorchScript
        torch.jit.script(model).save(str(script))
    tv = folder / "vgg16-tv.pth"
    torch.save(_torchvision_state(model), tv)
    return model, script, tv


def test_torchscript_vgg_is_read_without_running_it(vgg_files, monkeypatch) -> None:
    model, script, _ = vgg_files

    def forbidden(*a, **k):
        raise AssertionError("the TorchScript file must not be loaded as code")

    monkeypatch.setattr(torch.jit, "load", forbidden)
    weights = load_vgg_weights(script)
    assert weights.source == "nvidia-torchscript" and weights.lpips is not None
    for i, (w, b) in enumerate(weights.convs):
        conv = getattr(model.layers, f"conv{i + 1}")
        assert torch.equal(w, conv.weight.detach()) and torch.equal(b, conv.bias.detach())
    for i, lw in enumerate(weights.lpips):
        assert torch.equal(lw, getattr(model, f"lpips{i}").detach())


def test_torchvision_state_dict_gives_the_same_features_with_uniform_lpips_weights(vgg_files) -> None:
    _, script, tv = vgg_files
    a, b = load_vgg_weights(script), load_vgg_weights(tv)
    assert b.source == "torchvision" and b.lpips is None
    for (wa, ba), (wb, bb) in zip(a.convs, b.convs, strict=True):
        assert torch.equal(wa, wb) and torch.equal(ba, bb)
    fa, fb = VGG16Features(a), VGG16Features(b)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    for ta, tb in zip(fa(x), fb(x), strict=True):
        assert torch.equal(ta, tb)
    assert not fb.has_lpips_weights


def test_lpips_distance_and_loss(vgg_files) -> None:
    _, script, _ = vgg_files
    vgg = VGG16Features(load_vgg_weights(script))
    torch.manual_seed(1)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    y = (x + 0.3 * torch.randn_like(x)).clamp(-1, 1)
    same = vgg.distance(vgg.lpips_features(x), vgg.lpips_features(x))
    diff = vgg.distance(vgg.lpips_features(x), vgg.lpips_features(y))
    assert float(same) == 0.0 and float(diff) > 0
    # with all-ones LPIPS weights the distance is the channel-summed, spatially averaged normalised difference
    feats_x, feats_y = vgg(x), vgg(y)
    expected = 0.0
    for i, (fx, fy) in enumerate(zip(feats_x, feats_y, strict=True)):
        nx = fx / (fx.norm(dim=1, keepdim=True) + 1e-10)
        ny = fy / (fy.norm(dim=1, keepdim=True) + 1e-10)
        w = getattr(vgg, f"lpips{i}")
        expected += ((nx - ny).square() * w).sum(dim=1).mean()
    torch.testing.assert_close(diff[0], expected, rtol=1e-4, atol=1e-6)


def test_bad_vgg_files_are_refused(tmp_path) -> None:
    with pytest.raises(ProjectionError, match="not found"):
        load_vgg_weights(tmp_path / "none.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a weights file at all")
    with pytest.raises(ProjectionError, match="cannot read VGG16"):
        load_vgg_weights(junk)
    other = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, other)
    with pytest.raises(ProjectionError, match="does not look like VGG16"):
        load_vgg_weights(other)


# ----------------------------------------------------------------------------- discriminator features


def tiny_snapshot(seed: int = 0) -> Network:
    torch.manual_seed(seed)
    G = build_generator(
        "stylegan2",
        dict(
            z_dim=16,
            w_dim=16,
            c_dim=0,
            img_resolution=16,
            img_channels=3,
            mapping_kwargs=dict(num_layers=2),
            synthesis_kwargs=dict(channel_base=256, channel_max=16),
        ),
    )
    d_kwargs = dict(
        c_dim=0,
        img_resolution=16,
        img_channels=3,
        channel_base=256,
        channel_max=16,
        num_fp16_res=0,
        conv_clamp=256,
        epilogue_kwargs=dict(mbstd_group_size=4),
    )
    D = Discriminator(**d_kwargs)
    record = DiscriminatorRecord(
        init_kwargs=d_kwargs, state={k: v.detach().numpy().copy() for k, v in D.state_dict().items()}
    )
    return Network(
        G=G,
        kind="stylegan2",
        arch={},
        fingerprint=f"tiny-snap-{seed}",
        name="tiny snapshot",
        source="test",
        discriminator=record,
    )


def test_auto_picks_the_best_available_loss() -> None:
    snap = tiny_snapshot()
    plain = dataclasses.replace(snap, discriminator=None)
    assert resolve_loss_name("auto", snap, None) == "disc"
    assert resolve_loss_name("auto", snap, "vgg16.pt") == "lpips"
    assert resolve_loss_name("auto", plain, None) == "ssim"
    with pytest.raises(ProjectionError, match="discriminator"):
        resolve_loss_name("disc", plain, None)
    with pytest.raises(ProjectionError, match="--vgg"):
        resolve_loss_name("lpips", plain, None)


def test_discriminator_from_the_snapshot_record_drives_the_loss() -> None:
    snap = tiny_snapshot()
    torch.manual_seed(3)
    target = torch.rand(1, 3, 16, 16) * 2 - 1
    synth = torch.rand(1, 3, 16, 16) * 2 - 1
    loss = build_loss("disc", snap, target, torch.device("cpu"))
    assert isinstance(loss, DiscriminatorLoss) and loss.name == "disc+pixel"
    assert float(loss(target)) == pytest.approx(0.0, abs=1e-7)
    base = float(loss(synth))
    # different D weights -> a different loss for the same pair of images
    state = {k: v * (1.5 if k.endswith("weight") else 1.0) for k, v in snap.discriminator.state.items()}
    changed = dataclasses.replace(
        snap, discriminator=DiscriminatorRecord(snap.discriminator.init_kwargs, state)
    )
    other = float(build_loss("disc", changed, target, torch.device("cpu"))(synth))
    assert abs(other - base) > 1e-3 * base
    # the features are those of the module built from the record
    ref = Discriminator(**snap.discriminator.init_kwargs)
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in snap.discriminator.state.items()})
    for a, b in zip(loss.target_features, ref.features(target), strict=True):
        torch.testing.assert_close(a, b.detach())


def test_projection_with_discriminator_loss_improves() -> None:
    engine = Engine(tiny_snapshot(), "cpu")
    target = engine.render_ws(engine.map_seed(2, psi=1.0)).image
    result = project(
        engine, target, ProjectionConfig(steps=20, loss="auto", space="wplus", w_avg_samples=1000)
    )
    assert result.loss_name == "disc+pixel"
    assert result.best_psnr > result.log[0][2] + 1.0


def test_ms_ssim_loss_form_keeps_gradients_when_structure_anticorrelates() -> None:
    torch.manual_seed(2)
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    y = (-x).clone().requires_grad_(True)  # inverted image: contrast-structure terms are negative
    assert float(ms_ssim(x, y.detach())) < 1e-3
    (1 - ms_ssim(x, y, for_loss=True)).sum().backward()
    assert torch.isfinite(y.grad).all() and y.grad.abs().sum() > 0
    assert torch.allclose(ms_ssim(x, x, for_loss=True), torch.ones(1))
