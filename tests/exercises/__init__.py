"""Tests of gm_helpers.exercises: the checker core and each lecture's checkers."""
