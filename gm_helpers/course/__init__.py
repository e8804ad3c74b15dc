"""Course tooling, from a checkout: ``python -m gm_helpers.course --help``.

    __main__          Course tooling for instructors and maintainers, from a checkout of the
                      repository
    checkpoint_table  Print the README's checkpoint table from
                      gm_helpers/checkpoints/manifest.json
    claims            The claims ledger: every claim the lectures make, and where it is checked
    corpus            The text of lecture 02's character models: the course's own prose, taken
                      from its notebooks
    notebooks         Execute lecture notebooks in place and measure each one's wall time and peak
                      memory
    study_time        How long a lecture takes a strong student: reading, code, figures and exercises
    student           Write student copies of the lectures: every solution replaced by a stub
"""
