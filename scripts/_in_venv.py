"""Imported first by the Python scripts here: re-run the script with the project's .venv (made by
scripts/test or scripts/up) when it was started with another Python, so `scripts/x` just works."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_VENV = os.path.join(ROOT, ".venv")
_VENV_PY = os.path.join(_VENV, "bin", "python")
if (os.path.exists(_VENV_PY) and os.path.realpath(sys.prefix) != os.path.realpath(_VENV)
        and not os.environ.get("AMR_SCRIPT_REEXEC")):
    os.environ["AMR_SCRIPT_REEXEC"] = "1"
    os.execv(_VENV_PY, [_VENV_PY, os.path.abspath(sys.argv[0]), *sys.argv[1:]])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
