"""Test helpers (not collected as tests): writers for official-layout and hostile network pickles."""
