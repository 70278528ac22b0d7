"""``python -m isacnet``: the command line (same as the ``isacnet`` script)."""

from .cli import console

console()
