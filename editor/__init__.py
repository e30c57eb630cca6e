"""The application around one recipe: document, presets, pipeline, RPG Maker export, CLI; Qt lives in editor/ui."""
