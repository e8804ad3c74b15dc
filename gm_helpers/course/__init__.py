"""Course tooling, from a checkout: ``python -m gm_helpers.course --help``.

    __main__          Course tooling for instructors and maintainers, from a checkout of the
                      repository
    blocks            Generated blocks in the course's Markdown files: written by the command their
                      first line names
    checkpoint_table  The checkpoint table of the instructor guide, from
                      gm_helpers/checkpoints/manifest.json
    claims            The claims ledger: every claim the lectures make, and where it is checked
    colab             The Colab cell: the first code cell of every lecture (installs the package
                      and the data on Colab, does nothing elsewhere)
    corpus            The text of lecture 02's character models: the course's own prose, taken
                      from its notebooks
    figures           Every figure of a lecture has a caption and an alt text (myst-nb cell
                      metadata), checked
    hosting           Where the course is hosted: the one setting (course.toml) every launch link
                      derives from
    launch            The README's launch links (the site, Binder, Colab per lecture), generated from
                      course.toml
    lock              The lock files: exact versions for CI (requirements/ci.txt) and Binder
                      (binder/requirements.txt)
    notebooks         Execute lecture notebooks in place and measure each one's wall time and peak
                      memory
    site              The course's website: Sphinx and myst-nb over the committed, executed notebooks
    site_links        The built site's links, checked offline (every local link and anchor exists)
    site_pages        The site's generated pages: claims ledgers, the tests they cite, checkpoints
    study_time        How long a lecture takes a strong student: reading, code, figures and exercises
    student           Write student copies of the lectures: every solution replaced by a stub
"""
