"""Starts the WASI test suite's runner (path in argv[1], its arguments after it).

The runner is written for Python 3.12 or newer; on 3.11 (Debian 12's python3, the
project's .venv) the one thing it relies on that 3.11 lacks is `value in SomeEnum`
for a plain value, which is given here the meaning 3.12 gives it.
"""

import enum
import os
import runpy
import sys

if sys.version_info < (3, 12):
    _contains = enum.EnumType.__contains__

    def _contains_value(cls, value):  # type: ignore[no-untyped-def]
        if isinstance(value, cls):
            return _contains(cls, value)
        return any(value == member.value for member in cls)

    enum.EnumType.__contains__ = _contains_value  # type: ignore[method-assign]

runner = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(runner)))
runpy.run_path(runner, run_name="__main__")
