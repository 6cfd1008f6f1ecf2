"""The management plane: one controller process per cache (lifecycle, node processes, management API)."""
from amr_emulator.controller.cache import Controller, StartError

__all__ = ["Controller", "StartError"]
