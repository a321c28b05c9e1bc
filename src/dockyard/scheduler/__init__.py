"""Schedulers: the interface (``base``), config parsing shared by backends (``parse``) and the
backends themselves (``local``; ``kubernetes`` to come). Imports only ``dockyard.core``.

The local backend's knobs, passed explicitly to ``Agent`` / ``spawn_agent`` (the settings that
feed them are named after them):

- ``DOCKYARD_DEPLOY_TIMEOUT`` -> ``deploy_timeout`` (120 s): a new pod must be ready within it.
- ``DOCKYARD_RUN_TIMEOUT`` -> ``run_timeout`` (1200 s): a one-off run is killed after it (exit 124).
- ``DOCKYARD_APP_USER`` -> ``app_user`` ("nobody"): user of app processes when the agent is root.
- ``root`` (e.g. ``<data_dir>/scheduler``, made 0700): the socket, pod state and app logs.

Fixed, documented limits: one-off output is capped at 1 MiB (``runner.DEFAULT_OUTPUT_LIMIT``);
an app's log rotates at 5 MiB keeping 2 old files (``logs.DEFAULT_MAX_BYTES``/``DEFAULT_BACKUPS``);
a pod without a readiness probe is ready after living 1 s (``NodeOptions.settle``); crashed
processes restart after 1, 2, 4 ... 60 s (``NodeOptions.backoff_base``/``backoff_max``).
"""
