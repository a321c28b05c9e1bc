"""The local backend: a node agent supervising one shim process per pod on this host.

``LocalScheduler`` (in ``client``) is what the API uses; ``Agent`` (in ``agent``) is the one
process that owns the pods; ``shim`` is the per-pod supervisor that outlives both.
"""

from dockyard.scheduler.local.client import LocalScheduler

__all__ = ["LocalScheduler"]
