"""Entry point of ``python -m fwbatch_async.cli``."""

from fwbatch_async.cli.app import main

main(prog_name="fwbatch")
