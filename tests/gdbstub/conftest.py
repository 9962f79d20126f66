"""Makes gdbstub_fakes (the shared test doubles beside this file) importable.

The project runs pytest with ``--import-mode=importlib``, which does not put
test folders on ``sys.path``.
"""

import pathlib
import sys

_HERE = str(pathlib.Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
