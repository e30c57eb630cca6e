"""Every Qt widget, window, dialog and the render worker; nothing outside editor/ui imports Qt."""

from editor.ui.pyside_workarounds import protect_none_refcount

protect_none_refcount()
