"""Lecture 01's checkers: the full-joint count is compared exactly, as an integer.

The right answer, a stub, a crash and each named mistake of every lecture 01-04 checker built on
``check_cases`` are tried in test_core.py.
"""
from gm_helpers.exercises.probability import check_full_joint_params


def test_float_count_is_not_exact():
    """2.0**784 is not the exact count: the full-joint checker compares integers exactly."""
    feedback = check_full_joint_params(lambda n, m: float(m) ** n - 1)
    assert not feedback and "784" in feedback.message
