"""Tests of gm_helpers.course: student copies and the claims ledger."""
