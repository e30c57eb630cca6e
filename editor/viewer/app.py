"""The live viewer window on imgui-bundle: controls, the image, the layer inspector and timings.

Why immediate mode: every frame the window draws its controls from one ViewerState and replaces that
state when a control changes; a changed state is submitted to the render thread (latest request wins)
and finished frames are picked up by polling, so the window never runs a forward pass and stays
smooth while the network renders. This is the only viewer module that imports imgui.

Fonts and assets come from the imgui-bundle package; window settings go to the per-user config folder
(never the working directory).
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from imgui_bundle import hello_imgui, imgui, immapp, immvision, implot

from editor.viewer.capture import capture, save_handoff_session, save_png, viewer_config_dir
from editor.viewer.frames import FrameRequest, ViewerFrame
from editor.viewer.inspector import InspectorSettings, clamp_settings, layer_menu_labels
from editor.viewer.render_thread import JobFailure, RenderThread
from editor.viewer.timing import RollingSeries
from editor.viewer.viewer_state import GRID_SIZE, ViewerState, animation_step, cells_per_pixel, rows_from
from renderer.errors import CastmakerError
from renderer.nets.contract import SynthesisStep, band_of_row

log = logging.getLogger(__name__)

BAND_COLOURS = {
    "coarse": (0.95, 0.65, 0.35, 1.0),
    "middle": (0.45, 0.85, 0.55, 1.0),
    "fine": (0.45, 0.7, 1.0, 1.0),
}
SCREENSHOT_TIMEOUT_S = 600.0  # give up waiting for the first rendered frame in --screenshot mode


@dataclass(frozen=True)
class ViewerInfo:
    """What the window may know about the network without touching the Engine."""

    name: str
    source: str
    kind: str
    fingerprint: str
    num_ws: int
    img_resolution: int
    c_dim: int
    device_name: str
    steps: tuple[SynthesisStep, ...]

    @classmethod
    def from_engine(cls, engine) -> ViewerInfo:
        """Read once from the Engine (on the loading thread) so the window never touches it."""
        net = engine.network
        return cls(
            name=net.name,
            source=net.source,
            kind=net.kind,
            fingerprint=net.fingerprint,
            num_ws=net.num_ws,
            img_resolution=net.img_resolution,
            c_dim=net.c_dim,
            device_name=engine.device_name,
            steps=tuple(engine.steps),
        )


@dataclass(frozen=True)
class ViewerOptions:
    """Command-line choices: where to capture, and the screenshot mode (N frames, then save and exit)."""

    capture_dir: Path
    screenshot: Path | None = None
    frames: int = 30
    window_size: tuple[int, int] = (1280, 820)
    class_idx: int | None = None  # `view --class K`: the first class shown on a conditional network (default 0)


class _Texture:
    """An OpenGL texture updated from numpy images (created lazily on the GUI thread)."""

    def __init__(self) -> None:
        self._tex: immvision.GlTexture | None = None
        self.size = (0, 0)

    def update(self, image: np.ndarray) -> None:
        img = np.ascontiguousarray(image)
        if self._tex is None:
            self._tex = immvision.GlTexture()
        self._tex.update_from_image(img, False)
        self.size = (int(img.shape[1]), int(img.shape[0]))

    @property
    def ready(self) -> bool:
        return self._tex is not None

    def ref(self) -> imgui.ImTextureRef:
        assert self._tex is not None
        return imgui.ImTextureRef(self._tex.texture_id)

    def release(self) -> None:
        self._tex = None


class ViewerApp:
    """The window's state and its per-frame GUI function."""

    def __init__(self, info: ViewerInfo, worker: RenderThread, options: ViewerOptions) -> None:
        self.info = info
        self.worker = worker
        self.options = options
        self.state = ViewerState.initial(info.num_ws)
        if info.c_dim > 0:
            self.state = replace(self.state, class_idx=options.class_idx or 0)
        self.inspect_open = True
        self.inspect = InspectorSettings(step_index=max(0, len(info.steps) // 2))
        self.animate = False
        self.anim_speed = 0.5  # cells per second
        self.anim_angle = 0.0  # degrees
        self.drag_cells_across = 4.0
        self.capture_dir = str(options.capture_dir)
        self.frame: ViewerFrame | None = None
        self.status = ""
        self.status_is_error = False
        self.last_capture = ""
        self.last_session = ""
        self.frame_no = 0  # UI frames drawn so far: the x axis of the timing plot
        self.frame_ms, self.frame_at = RollingSeries(240), RollingSeries(240)
        self.render_ms, self.render_at = RollingSeries(240), RollingSeries(240)
        self._image_tex = _Texture()
        self._inspect_tex = _Texture()
        self._submitted: FrameRequest | None = None
        self._frames_with_image = 0
        self._started = time.monotonic()
        self.screenshot_failed: str | None = None

    # ----- the frame loop
    def gui(self) -> None:
        io = imgui.get_io()
        self.frame_no += 1
        self.frame_ms.append(io.delta_time * 1000.0)
        self.frame_at.append(self.frame_no)
        self._take_results()
        if self.animate:
            dx, dy = animation_step(io.delta_time, self.anim_speed, self.anim_angle)
            self.state = self.state.moved_by(dx, dy)

        avail = imgui.get_content_region_avail()
        panel_w = min(400.0, max(300.0, avail.x * 0.32))
        imgui.begin_child("controls", (panel_w, 0), imgui.ChildFlags_.borders)
        self._controls()
        imgui.end_child()
        imgui.same_line()
        imgui.begin_child("views", (0, 0))
        self._views()
        imgui.end_child()

        self._submit_if_changed()
        self._pace()
        self._screenshot_tick()

    def _take_results(self) -> None:
        result = self.worker.poll()
        if result is None:
            return
        if isinstance(result, JobFailure):
            self._say(f"render failed: {result.message}", error=True)
            if self.options.screenshot is not None and self.frame is None:
                self.screenshot_failed = f"the first frame failed to render: {result.message}"
                hello_imgui.get_runner_params().app_shall_exit = True
            return
        self.frame = result
        self.render_ms.append(result.render_ms)
        self.render_at.append(self.frame_no)
        self._image_tex.update(result.image)
        if result.inspector is not None:
            self._inspect_tex.update(result.inspector.image)
        if self.status_is_error and self.status.startswith("render failed"):
            self._say("")

    def _request(self) -> FrameRequest:
        return FrameRequest(state=self.state, inspect=self.inspect if self.inspect_open else None)

    def _submit_if_changed(self) -> None:
        req = self._request()
        if req != self._submitted:
            self.worker.submit(req)
            self._submitted = req

    def _pace(self) -> None:
        """Full frame rate while something moves or renders; idle (few fps) otherwise."""
        idling = hello_imgui.get_runner_params().fps_idling
        lively = self.animate or self.worker.busy or self.options.screenshot is not None
        idling.fps_idle = 60.0 if lively else 9.0

    def _screenshot_tick(self) -> None:
        if self.options.screenshot is None:
            return
        if self.frame is not None and self._image_tex.ready:
            self._frames_with_image += 1
        elif time.monotonic() - self._started > SCREENSHOT_TIMEOUT_S:
            self.screenshot_failed = f"no frame was rendered within {SCREENSHOT_TIMEOUT_S:.0f} s"
            hello_imgui.get_runner_params().app_shall_exit = True
        if self._frames_with_image >= max(1, self.options.frames):
            hello_imgui.get_runner_params().app_shall_exit = True

    def _say(self, text: str, error: bool = False) -> None:
        self.status, self.status_is_error = text, error
        if text:
            (log.warning if error else log.info)("%s", text)

    # ----- left panel
    def _controls(self) -> None:
        info = self.info
        imgui.text(f"{info.name}  ({info.kind}, {info.img_resolution}px, {info.num_ws} rows)")
        imgui.text_disabled(f"{info.device_name}   fingerprint {info.fingerprint[:12]}")
        if self.status:
            colour = (1.0, 0.45, 0.4, 1.0) if self.status_is_error else (0.6, 0.9, 0.6, 1.0)
            imgui.push_text_wrap_pos(0.0)
            imgui.text_colored(colour, self.status)
            imgui.pop_text_wrap_pos()
        imgui.push_item_width(imgui.get_content_region_avail().x * 0.52)
        self._sections()
        imgui.pop_item_width()

    def _sections(self) -> None:
        if imgui.collapsing_header("Latent", imgui.TreeNodeFlags_.default_open):
            self._latent_controls()
        if imgui.collapsing_header("Truncation", imgui.TreeNodeFlags_.default_open):
            self._truncation_controls()
        if imgui.collapsing_header("Style mix", imgui.TreeNodeFlags_.default_open):
            self._mix_controls()
        if imgui.collapsing_header("Layer inspector", imgui.TreeNodeFlags_.default_open):
            self._inspector_controls()
        if imgui.collapsing_header("Capture", imgui.TreeNodeFlags_.default_open):
            self._capture_controls()

    def _latent_controls(self) -> None:
        s = self.state
        seed = _seed_input("seed", s.nearest_seed)
        if seed is not None:
            self.state = s.at_seed(seed)
        imgui.set_item_tooltip("Seed of the nearest grid cell; typing a seed jumps to its cell.")
        changed, xy = imgui.drag_float2("grid x, y", [s.x, s.y], 0.01, format="%.2f")
        if changed:
            self._set_state(lambda: self.state.moved_to(float(xy[0]), float(xy[1])))
        imgui.set_item_tooltip(
            "Cell (x, y) shows seed x + 65536*y; between cells the four neighbours' w are blended.\n"
            "Drag on the image to move."
        )
        if imgui.button("snap to cell"):
            self.state = s.at_seed(s.nearest_seed)
        imgui.same_line()
        _, self.animate = imgui.checkbox("animate", self.animate)
        _, self.anim_speed = imgui.slider_float("speed (cells/s)", self.anim_speed, 0.05, 5.0, "%.2f")
        _, self.anim_angle = imgui.slider_float("direction (deg)", self.anim_angle, -180.0, 180.0, "%.0f")
        _, self.drag_cells_across = imgui.slider_float(
            "drag: cells/image", self.drag_cells_across, 0.5, 20.0, "%.1f"
        )
        if self.info.c_dim > 0:
            changed, cls = imgui.input_int("class", s.class_idx or 0)
            if changed:
                self.state = replace(self.state, class_idx=min(max(cls, 0), self.info.c_dim - 1))

    def _truncation_controls(self) -> None:
        s = self.state
        changed, psi = imgui.slider_float("psi (ψ)", s.psi, -1.0, 2.0, "%.2f")
        if changed:
            self.state = replace(self.state, psi=float(psi))
        n = self.info.num_ws
        cutoff = n if s.cutoff is None else s.cutoff
        changed, cutoff = imgui.slider_int("cutoff", cutoff, 0, n, "%d" if cutoff < n else "all rows")
        if changed:
            self.state = replace(self.state, cutoff=None if cutoff >= n else int(cutoff))
        imgui.set_item_tooltip("Truncation applies to rows below the cutoff.")

    def _mix_controls(self) -> None:
        s = self.state
        n = self.info.num_ws
        mix = _seed_input("mix seed", s.mix_seed)
        if mix is not None:
            self.state = replace(self.state, mix_seed=mix)
        for label, rows in (
            ("none", []),
            ("coarse", [r for r in range(n) if band_of_row(r, n) == "coarse"]),
            ("middle", [r for r in range(n) if band_of_row(r, n) == "middle"]),
            ("fine", [r for r in range(n) if band_of_row(r, n) == "fine"]),
            ("all", list(range(n))),
        ):
            if imgui.small_button(label):
                self.state = replace(self.state, mix_rows=rows_from(rows, n))
            imgui.same_line()
        imgui.new_line()
        per_line = 4
        for r in range(n):
            band = band_of_row(r, n)
            imgui.push_style_color(imgui.Col_.text, BAND_COLOURS[band])
            changed, on = imgui.checkbox(f"{r:2d}##mix{r}", self.state.mix_rows[r])
            imgui.pop_style_color()
            imgui.set_item_tooltip(f"row {r} ({band}): take it from the mix seed")
            if changed:
                self.state = self.state.with_mix_row(r, on)
            if (r + 1) % per_line and r + 1 < n:
                imgui.same_line()

    def _inspector_controls(self) -> None:
        _, self.inspect_open = imgui.checkbox("show activations", self.inspect_open)
        steps = self.info.steps
        if not steps:
            imgui.text_disabled("this network has no stepwise synthesis")
            return
        names, details = layer_menu_labels(steps)  # short names in the menu; the details in full beside it
        s = self.inspect
        changed, idx = imgui.combo("layer", s.step_index, names)
        imgui.set_item_tooltip(details[s.step_index])
        if changed:
            s = replace(s, step_index=idx)
        imgui.text_disabled(details[s.step_index].split(" — ", 1)[1])
        mode_idx = 0 if s.mode == "channel" else 1
        if imgui.radio_button("one channel", mode_idx == 0):
            s = replace(s, mode="channel")
        imgui.same_line()
        if imgui.radio_button("RGB triple", mode_idx == 1):
            s = replace(s, mode="rgb")
        top = steps[s.step_index].channels - 1
        if s.mode == "channel":
            _, ch = imgui.slider_int("channel", s.channel, 0, top)
            s = replace(s, channel=ch)
        else:
            rgb = list(s.rgb)
            for k, name in enumerate(("red", "green", "blue")):
                _, rgb[k] = imgui.slider_int(f"{name} channel", rgb[k], 0, top)
            s = replace(s, rgb=(rgb[0], rgb[1], rgb[2]))
        self.inspect = clamp_settings(s, len(steps), steps[s.step_index].channels)

    def _capture_controls(self) -> None:
        _, self.capture_dir = imgui.input_text("folder", self.capture_dir)
        disabled = self.frame is None
        imgui.begin_disabled(disabled)
        if imgui.button("Save PNG + w"):
            self._capture()
        imgui.same_line()
        if imgui.button("Open in editor"):
            self._handoff()
        imgui.end_disabled()
        imgui.set_item_tooltip("Save the current recipe as a session file the Castmaker editor opens.")
        imgui.push_text_wrap_pos(0.0)
        if self.last_capture:
            imgui.text_disabled(self.last_capture)
        if self.last_session:
            imgui.text_disabled(self.last_session)
        imgui.pop_text_wrap_pos()

    def _capture_stem(self) -> str:
        s = self.frame.request.state if self.frame else self.state
        stem = f"seed{s.nearest_seed}"
        if not s.on_grid_point:
            stem += f"-at{s.x:.2f}_{s.y:.2f}"
        if any(s.mix_rows):
            stem += f"-mix{s.mix_seed}"
        return stem + f"-psi{s.psi:.2f}"

    def _capture(self) -> None:
        if self.frame is None:
            return
        try:
            res = capture(self.capture_dir, self._capture_stem(), self.frame.image, self.frame.ws)
        except CastmakerError as exc:
            self._say(str(exc), error=True)
            return
        self.last_capture = f"saved {res.png} and {res.w.name}"
        self._say("capture saved")

    def _handoff(self) -> None:
        if self.frame is None:
            return
        try:
            path = save_handoff_session(
                self.capture_dir,
                self._capture_stem(),
                self.frame.recipe,
                self.info.source,
                self.info.fingerprint,
            )
        except CastmakerError as exc:
            self._say(str(exc), error=True)
            return
        self.last_session = f"session: {path}\nopen it with: python main.py --session {path}"
        self._say("session saved for the editor")

    def _set_state(self, make: Callable[[], ViewerState]) -> None:
        try:
            self.state = make()
        except CastmakerError as exc:
            self._say(str(exc), error=True)

    # ----- right side: image, inspector, timings
    def _views(self) -> None:
        avail = imgui.get_content_region_avail()
        plot_h = min(170.0, max(avail.y * 0.25, 110.0))
        text_h = imgui.get_text_line_height_with_spacing() * (3 if avail.x < 900 else 2)
        top_h = max(avail.y - plot_h - text_h - imgui.get_style().item_spacing.y * 2, 100.0)
        show_inspect = self.inspect_open and bool(self.info.steps)
        img_side = min(top_h, (avail.x - 10.0) / (2.0 if show_inspect else 1.0))
        self._image_view(img_side)
        if show_inspect:
            imgui.same_line()
            self._inspector_view(img_side)
        self._status_line()
        self._perf_plot(max(imgui.get_content_region_avail().y, plot_h))

    def _image_view(self, side: float) -> None:
        imgui.begin_group()
        origin = imgui.get_cursor_screen_pos()
        if self._image_tex.ready:
            w, h = self._image_tex.size
            scale = side / max(w, h)
            size = (w * scale, h * scale)
            imgui.image(self._image_tex.ref(), size)
        else:
            size = (side, side)
            imgui.dummy(size)
            imgui.get_window_draw_list().add_text(
                (origin.x + 10, origin.y + 10), imgui.get_color_u32((1, 1, 1, 1)), "rendering first frame..."
            )
        imgui.set_cursor_screen_pos(origin)
        imgui.invisible_button("##drag-image", size)
        if imgui.is_item_active() and imgui.is_mouse_dragging(imgui.MouseButton_.left, 0.0):
            d = imgui.get_io().mouse_delta
            k = cells_per_pixel(size[0], self.drag_cells_across)
            if d.x or d.y:
                self.state = self.state.moved_by(-d.x * k, -d.y * k)
        elif imgui.is_item_hovered():
            imgui.set_tooltip("drag to move through seeds")
        imgui.end_group()

    def _inspector_view(self, side: float) -> None:
        imgui.begin_group()
        view = self.frame.inspector if self.frame else None
        if view is not None and self._inspect_tex.ready:
            w, h = self._inspect_tex.size
            scale = side / max(w, h)
            imgui.image(self._inspect_tex.ref(), (w * scale, h * scale))
        else:
            imgui.dummy((side, side))
        imgui.end_group()

    def _status_line(self) -> None:
        f = self.frame
        fps = imgui.get_io().framerate
        ui_ms = self.frame_ms.mean(30) or 0.0
        text = f"UI {ui_ms:5.1f} ms/frame ({fps:4.0f} fps)"
        if f is not None:
            s = f.request.state
            text += f"   render {f.render_ms:6.1f} ms (from step {f.start_step})"
            text += f"   seed {s.nearest_seed} at ({s.x:.2f}, {s.y:.2f})  ψ {s.psi:.2f}"
        if self.worker.busy:
            text += "   [rendering]"
        imgui.push_text_wrap_pos(0.0)
        imgui.text(text)
        view = f.inspector if f else None
        if view is not None:
            shown = view.settings.shown_channels()
            ch = f"channel {shown[0]}" if len(shown) == 1 else f"channels {shown}"
            imgui.text(
                f"layer {view.step_name} (row {view.step_row}, {view.num_channels} ch), {ch}: "
                f"{view.stats.summary()}   [{view.ms:.1f} ms]"
            )
        imgui.pop_text_wrap_pos()

    def _perf_plot(self, height: float) -> None:
        flags = implot.Flags_.no_menus | implot.Flags_.no_box_select
        if implot.begin_plot("Timing", (-1, height), flags):
            fit = implot.AxisFlags_.auto_fit
            implot.setup_axis(implot.ImAxis_.x1, "UI frame number", fit)
            implot.setup_axis(implot.ImAxis_.y1, "UI frame ms", fit)
            implot.setup_axis(implot.ImAxis_.y2, "render ms", implot.AxisFlags_.aux_default | fit)
            ui = self.frame_ms.values()
            if len(ui):
                implot.set_axes(implot.ImAxis_.x1, implot.ImAxis_.y1)
                implot.plot_line("UI frame (left axis)", self.frame_at.values(), ui)
            rend = self.render_ms.values()
            if len(rend):
                implot.set_axes(implot.ImAxis_.x1, implot.ImAxis_.y2)
                marker = implot.Spec(marker=implot.Marker_.circle)
                implot.plot_line("render (right axis)", self.render_at.values(), rend, spec=marker)
            implot.end_plot()

    def timing_summary(self) -> str:
        """One line of numbers for the terminal: UI frame times and render times seen in this run."""
        ui, rend = self.frame_ms.values(), self.render_ms.values()
        text = f"UI frames: {len(ui)} kept, median {np.median(ui):.1f} ms" if len(ui) else "UI frames: none"
        if len(rend):
            text += f"; renders: {len(rend)} kept, median {np.median(rend):.1f} ms, last {rend[-1]:.1f} ms"
        return text + f" ({self.info.device_name})"

    # ----- shutdown
    def release_gl(self) -> None:
        """Drop textures while the GL context still exists."""
        self._image_tex.release()
        self._inspect_tex.release()


def _seed_input(label: str, value: int) -> int | None:
    """A text field plus -/+ for a 32-bit seed (imgui's int fields stop at 2**31); the new seed or None."""
    max_seed = GRID_SIZE * GRID_SIZE - 1
    new: int | None = None
    width = imgui.calc_item_width()
    button = imgui.get_frame_height()
    spacing = imgui.get_style().item_inner_spacing.x
    imgui.set_next_item_width(max(width - 2 * (button + spacing), 40.0))
    changed, text = imgui.input_text(f"##{label}", str(value), imgui.InputTextFlags_.chars_decimal)
    if changed and text.strip().isdigit() and int(text) <= max_seed:
        new = int(text)
    imgui.same_line(0, spacing)
    if imgui.button(f"-##{label}", (button, button)):
        new = (value - 1) % (max_seed + 1)
    imgui.same_line(0, spacing)
    if imgui.button(f"+##{label}", (button, button)):
        new = (value + 1) % (max_seed + 1)
    imgui.same_line(0, spacing)
    imgui.text(label)
    return new


def runner_params(app: ViewerApp) -> hello_imgui.RunnerParams:
    """The hello_imgui set-up of the viewer window (tests add the imgui test engine on top)."""
    config = viewer_config_dir()
    config.mkdir(parents=True, exist_ok=True)
    immvision.use_rgb_color_order()  # images cross boundaries as RGB (textures also say so explicitly)
    params = hello_imgui.RunnerParams()
    params.app_window_params.window_title = f"Castmaker viewer - {app.info.name}"
    params.app_window_params.window_geometry.size = app.options.window_size
    params.imgui_window_params.default_imgui_window_type = (
        hello_imgui.DefaultImGuiWindowType.provide_full_screen_window
    )
    # Settings live in the user config folder: imgui.ini is never written into the working directory.
    params.ini_folder_type = hello_imgui.IniFolderType.absolute_path
    params.ini_filename = str(config / "viewer.ini")
    params.callbacks.show_gui = app.gui
    params.callbacks.before_exit = app.release_gl
    params.fps_idling.enable_idling = True
    return params


def add_ons() -> immapp.AddOnsParams:
    return immapp.AddOnsParams(with_implot=True)


@contextlib.contextmanager
def _signal_dispositions_kept() -> Iterator[None]:
    """Restore SIGPIPE's disposition after the window closes.

    Why: the native window stack installs its own SIGPIPE handler while it runs and leaves it behind.
    Python ignores SIGPIPE so that writing to a closed pipe raises an error instead; with the leftover
    handler, a later write to a pipe whose reader died (a worker process of the same interpreter, e.g.
    in the test suite) crashed the whole process.
    """
    kept = signal.getsignal(signal.SIGPIPE) if hasattr(signal, "SIGPIPE") else None
    try:
        yield
    finally:
        if kept is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGPIPE, kept)


def run_viewer(app: ViewerApp) -> int:
    """Open the window and run until it closes; in screenshot mode save the window as PNG. Exit code."""
    params = runner_params(app)
    try:
        with _signal_dispositions_kept():
            immapp.run(params, add_ons())
    except RuntimeError as exc:  # window or GL context creation failed inside the runner
        from editor.viewer.display_probe import ViewerUnavailable

        raise ViewerUnavailable(f"the viewer window could not be opened: {exc}") from None

    if app.options.screenshot is None:
        return 0
    if app.screenshot_failed:
        raise CastmakerError(f"screenshot not taken: {app.screenshot_failed}")
    shot = np.asarray(hello_imgui.final_app_window_screenshot())
    if shot.size == 0:
        raise CastmakerError("screenshot not taken: the window returned no pixels")
    if shot.ndim == 3 and shot.shape[2] == 4:
        shot = shot[:, :, :3]
    scale = float(hello_imgui.final_app_window_screenshot_framebuffer_scale() or 1.0)
    if not math.isclose(scale, 1.0):
        log.info("framebuffer scale %.2f: screenshot kept at framebuffer resolution", scale)
    save_png(app.options.screenshot, np.ascontiguousarray(shot, dtype=np.uint8))
    return 0


__all__ = ["ViewerApp", "ViewerInfo", "ViewerOptions", "add_ons", "run_viewer", "runner_params"]
