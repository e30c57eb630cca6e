"""Every Qt widget, window, dialog and the render worker; nothing outside editor/ui imports Qt."""
