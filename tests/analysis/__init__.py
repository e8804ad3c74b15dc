"""Tests of gm_helpers.analysis: one file per module."""
