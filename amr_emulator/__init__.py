"""amr-emulator: a local, multi-process emulator of an Azure Managed Redis cache.

`from amr_emulator import Cache` gives the Python API (imported lazily, so the protocol core stays
free of it).
"""


def __getattr__(name):
    if name == "Cache":
        from amr_emulator.api import Cache
        return Cache
    raise AttributeError(f"module 'amr_emulator' has no attribute {name!r}")
