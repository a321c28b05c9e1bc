"""Where each thing lives in the data dir, in one place (pure path arithmetic).

::

    <data dir>/
      dockyard.db             the SQLite database (0600)
      builder.key             the git endpoints' shared secret with the API (0600)
      ssh_host_ed25519_key    the SSH endpoint's host key (0600)
      builds/<app>/<build>/   slugs: what a release runs (root:<app gid> 0750, files 0640)
      repos/<app>.git         the app's bare git repository (the controller's alone)
      cache/<app>/            the app's build cache (owned by the app's uid, 0700)
      buildpacks/<name>/      buildpacks installed by administrators
      buildpacks/.builtin/    the built-in buildpacks, copied where builds can read them
      tmp/                    uploads being received and builds being made (0711)
      local/                  the local scheduler's node agent, pods, logs and routes (0711)
"""

from __future__ import annotations

from pathlib import Path

BUILDER_KEY = "builder.key"
SSH_HOST_KEY = "ssh_host_ed25519_key"


def slugs_dir(data_dir: Path, app: str) -> Path:
    return data_dir / "builds" / app


def slug_dir(data_dir: Path, app: str, build: str) -> Path:
    return slugs_dir(data_dir, app) / build


def repo_dir(data_dir: Path, app: str) -> Path:
    return data_dir / "repos" / f"{app}.git"


def cache_dir(data_dir: Path, app: str) -> Path:
    return data_dir / "cache" / app


def buildpacks_dir(data_dir: Path) -> Path:
    return data_dir / "buildpacks"


def tmp_dir(data_dir: Path) -> Path:
    return data_dir / "tmp"


def app_dirs(data_dir: Path, app: str) -> list[Path]:
    """Everything on disk that belongs to one app (deleted with it)."""
    return [slugs_dir(data_dir, app), repo_dir(data_dir, app), cache_dir(data_dir, app)]
