"""The ``fwbatch`` command (install the ``cli`` extra: ``pip install 'fwbatch-async[cli]'``).

It uses only the public API of :mod:`fwbatch_async`; ``fwbatch --help`` lists its commands.
"""

from .app import main

__all__ = ["main"]
