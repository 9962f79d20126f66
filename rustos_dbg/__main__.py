"""``python -m rustos_dbg``: the same as the ``rustos-dbg`` command."""

import sys

from .cli import main

sys.exit(main())
