"""The live viewer (`python main.py view`): an imgui-bundle window over the same renderer API as the editor.

Modules: viewer_state (state -> recipe, no GUI), frames (the render job), render_thread (latest request
wins), inspector (activation -> image), capture (PNG / w / session files), timing (frame-time history),
display_probe (is there a display with OpenGL?), app (the window; the only module importing imgui).
"""
