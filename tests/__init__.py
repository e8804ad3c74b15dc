"""The test suite: one folder per folder of gm_helpers, one file per module it tests."""
