"""Schedulers: the interface (``base``), config parsing shared by backends (``parse``) and the
backends themselves (``local``; ``kubernetes`` to come). Imports only ``dockyard.core``.

The local backend's knobs, passed explicitly to ``Agent`` / ``spawn_agent`` (the settings that
feed them are named after them):

- ``DOCKYARD_DEPLOY_TIMEOUT`` -> ``deploy_timeout`` (120 s): a new pod must be ready within it.
- ``DOCKYARD_RUN_TIMEOUT`` -> ``run_timeout`` (1200 s): a one-off run is killed after it (exit 124).
- ``DOCKYARD_APP_USER`` -> ``app_user`` ("nobody"): when the agent is root, app processes run
  as their release's ``uid`` (the app's own, ``DOCKYARD_APP_UID_RANGE``), else as this user;
  None/"" keeps the agent's user for every app (no isolation).
- ``DOCKYARD_APP_MAX_PROCS`` -> ``NodeOptions.max_procs`` / ``--max-procs`` (512): RLIMIT_NPROC
  of an app's uid.
- ``root`` (``<data_dir>/local``, made traverse-only, 0711): the socket, pod state (0700)
  and app logs (``logs/<app>.log``, ``root:<app gid>`` 0640).

Fixed, documented limits: one-off output is capped at 1 MiB (``runner.DEFAULT_OUTPUT_LIMIT``);
an app's log rotates at 5 MiB keeping 2 old files (``logs.DEFAULT_MAX_BYTES``/``DEFAULT_BACKUPS``);
a pod without a readiness probe is ready after living 1 s (``NodeOptions.settle``); crashed
processes restart after 1, 2, 4 ... 60 s (``NodeOptions.backoff_base``/``backoff_max``).
"""
