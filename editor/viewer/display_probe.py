"""Can a window with an OpenGL context be opened here? Asked before the viewer starts.

Why: with no display or no OpenGL, the GUI runner fails deep inside C++ (an assertion, a message
from GLFW on stderr). Asking first lets `view` exit with code 2 and one line saying what is missing.
The probe uses the GLFW library shipped inside imgui-bundle through ctypes: init, a hidden 1x1 window
with a GL context, then everything torn down again.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
from pathlib import Path

from renderer.errors import CastmakerError

log = logging.getLogger(__name__)

_GLFW_VISIBLE = 0x00020004
_GLFW_FALSE = 0


class ViewerUnavailable(CastmakerError):
    """No display or no OpenGL: the viewer cannot open a window."""


def display_problem(environ: dict[str, str] | None = None, platform: str | None = None) -> str | None:
    """Why no window can be shown on this platform according to the environment, or None."""
    env = os.environ if environ is None else environ
    plat = sys.platform if platform is None else platform
    if plat.startswith("linux") or "bsd" in plat:
        if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
            return (
                "the viewer needs a display, but neither DISPLAY nor WAYLAND_DISPLAY is set "
                "(run it in a desktop session, or under xvfb-run for screenshots)"
            )
    return None


def _glfw_library() -> ctypes.CDLL | None:
    try:
        import imgui_bundle
    except ImportError:
        return None
    folder = Path(imgui_bundle.__file__).parent
    for name in ("libglfw.so.3", "libglfw.so", "libglfw.3.dylib", "libglfw.dylib", "glfw3.dll"):
        if (folder / name).exists():
            try:
                return ctypes.CDLL(str(folder / name))
            except OSError as exc:
                log.debug("cannot load %s: %s", folder / name, exc)
    return None


def opengl_problem() -> str | None:
    """Open and close a hidden GL window with imgui-bundle's GLFW; the reason it failed, or None."""
    lib = _glfw_library()
    if lib is None:
        log.debug("imgui-bundle's GLFW library not found; skipping the OpenGL probe")
        return None
    errors: list[str] = []
    callback_type = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p)

    def on_error(code: int, description: bytes | None) -> None:
        errors.append((description or b"").decode("utf-8", "replace") or f"GLFW error {code:#x}")

    callback = callback_type(on_error)
    lib.glfwSetErrorCallback.restype = ctypes.c_void_p
    lib.glfwSetErrorCallback.argtypes = [callback_type]
    lib.glfwCreateWindow.restype = ctypes.c_void_p
    lib.glfwCreateWindow.argtypes = [
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    lib.glfwDestroyWindow.argtypes = [ctypes.c_void_p]
    lib.glfwSetErrorCallback(callback)
    try:
        if not lib.glfwInit():
            return f"cannot start the window system: {errors[-1] if errors else 'glfwInit failed'}"
        try:
            lib.glfwWindowHint(_GLFW_VISIBLE, _GLFW_FALSE)
            window = lib.glfwCreateWindow(1, 1, b"castmaker-probe", None, None)
            if not window:
                why = errors[-1] if errors else "no window could be created"
                return f"cannot open an OpenGL window: {why}"
            lib.glfwDestroyWindow(window)
        finally:
            lib.glfwTerminate()
    finally:
        lib.glfwSetErrorCallback(callback_type())  # NULL callback: ours is about to go out of scope
    return None


def check_viewer_can_open() -> None:
    """Raise ViewerUnavailable with one clear line when no window with OpenGL can be opened."""
    problem = display_problem() or opengl_problem()
    if problem:
        raise ViewerUnavailable(problem)
