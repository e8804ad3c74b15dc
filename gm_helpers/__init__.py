"""gm_helpers: the tested package behind the interactive lectures on deep generative models.

One module per idea: ``data``, ``counting``, ``train``, ``nade``, ``viz``, ``widgets``,
``exercises``, ``student``. Import what you need, e.g. ``from gm_helpers.data import
load_binarized_mnist``; nothing heavy happens at import time.
"""
__version__ = "0.1.0"
