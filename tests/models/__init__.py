"""Tests of gm_helpers.models: one file per model family, the shared layers and the registry."""
