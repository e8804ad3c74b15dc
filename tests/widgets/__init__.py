"""Tests of gm_helpers.widgets: the explorer framework and each lecture's explorers."""
