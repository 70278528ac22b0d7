"""``python -m isacnet.cli``: the command line (same as the ``isacnet`` script)."""

import sys

try:
    from . import console
except KeyboardInterrupt:  # Ctrl-C while the modules load: nothing started, nothing to keep
    sys.stderr.write("interrupted\n")
    sys.exit(130)

console()
