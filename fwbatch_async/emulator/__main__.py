"""Entry point of ``python -m fwbatch_async.emulator``."""

import sys

from fwbatch_async.emulator.cli import main

sys.exit(main())
