"""The test cluster's real node: containerd (with its CRI plugin), runc and a kubelet with
the cgroupfs driver, every one of them confined to the cluster's work dir, and its cleanup.

Used by ``cluster.py`` when the cached bin dir holds a ``kubelet`` (build.sh recipe 3) and
the machine has containerd, runc and the CNI plugins (Debian's ``containerd``, ``runc``,
``containernetworking-plugins``) and runs as root; otherwise the cluster keeps kubemark's
hollow node.

What it owns, and removes again in ``cleanup()``:
- containerd's root, state and sockets under ``<work>/n`` (short: socket paths < 108 bytes),
  pod network namespaces there too (``netns_mounts_under_state_dir``);
- a CNI bridge ``dky<hex>`` with a /24 of 10.244.0.0/16 that exists only on this machine:
  no masquerade and no default route in the pods, so nothing leaves the machine;
- the pods' cgroups, under ``/dky-<hex>`` in every v1 hierarchy (kubelet ``cgroupRoot``);
- the kubelet's root dir under the work dir; its pod logs (``/var/log/pods/<ns>_<pod>_<uid>``,
  fixed in 1.20) and their ``/var/log/containers`` links;
- the images it imports (the pause image and any ``*.tar`` under ``<version>/images``).
Stopping order: kubelet, then every task and shim of this containerd (SIGKILL), containerd,
then mounts under the work dir, cgroups, the bridge.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

CNI_BIN = Path("/usr/lib/cni")
CGROUP_FS = Path("/sys/fs/cgroup")
POD_LOGS = Path("/var/log/pods")
CONTAINER_LOGS = Path("/var/log/containers")
PAUSE_IMAGE = "docker.io/dockyard/pause:1"


def missing_for_real_node(bin_dir: Path) -> list[str]:
    """What this machine lacks for a real node (empty: it can run one)."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    for name in ("kubelet", "pause"):
        if not os.access(bin_dir / name, os.X_OK):
            missing.append(f"{bin_dir / name}")
    for tool in ("containerd", "ctr", "runc"):
        if shutil.which(tool) is None:
            missing.append(tool)
    if not (CNI_BIN / "bridge").is_file():
        missing.append(str(CNI_BIN / "bridge"))
    return missing


def _free_subnet() -> str:
    routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
    for _ in range(50):
        third = random.randint(1, 254)
        if f"10.244.{third}." not in routes:
            return f"10.244.{third}.0/24"
    raise RuntimeError("no free /24 in 10.244.0.0/16 for the pod network")


@dataclass
class RealNode:
    workdir: Path  # the cluster's work dir
    bin_dir: Path
    node_name: str
    tag: str = field(default_factory=lambda: f"{random.getrandbits(32):08x}")
    subnet: str = field(default_factory=_free_subnet)

    @property
    def dir(self) -> Path:
        return self.workdir / "n"

    @property
    def socket(self) -> Path:
        return self.dir / "containerd.sock"

    @property
    def bridge(self) -> str:
        return f"dky{self.tag}"

    @property
    def cgroup_root(self) -> str:
        return f"/dky-{self.tag}"

    # --- configuration ---------------------------------------------------------------
    def write_configs(self, kubelet_port: int) -> tuple[Path, Path]:
        """containerd's config.toml and the kubelet's config; returns both paths."""
        d = self.dir
        (d / "net.d").mkdir(parents=True, exist_ok=True)
        (d / "net.d" / "10-dockyard.conflist").write_text(
            json.dumps(
                {
                    "cniVersion": "0.4.0",
                    "name": "dockyard-test",
                    "plugins": [
                        {
                            "type": "bridge",
                            "bridge": self.bridge,
                            "isGateway": True,
                            "ipMasq": False,
                            "hairpinMode": True,
                            "ipam": {
                                "type": "host-local",
                                "ranges": [[{"subnet": self.subnet}]],
                                "dataDir": str(d / "ipam"),
                            },
                        }
                    ],
                }
            )
        )
        containerd_config = d / "containerd.toml"
        containerd_config.write_text(
            f"""version = 2
root = "{d / "root"}"
state = "{d / "state"}"
[grpc]
  address = "{self.socket}"
[ttrpc]
  address = "{self.socket}.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  # A container sandbox may forbid lowering oom_score_adj (runc: "failed to update
  # /proc/self/oom_score_adj: Permission denied" for the pause container's -998).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{d / "runc"}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN}"
    conf_dir = "{d / "net.d"}"
"""
        )
        kubelet_config = d / "kubelet.json"
        kubelet_config.write_text(
            json.dumps(
                {
                    "apiVersion": "kubelet.config.k8s.io/v1beta1",
                    "kind": "KubeletConfiguration",
                    "address": "127.0.0.1",
                    "port": kubelet_port,
                    "readOnlyPort": 0,
                    "healthzPort": 0,
                    "cgroupDriver": "cgroupfs",
                    "cgroupRoot": self.cgroup_root,
                    "failSwapOn": False,
                    "makeIPTablesUtilChains": False,
                    "authentication": {
                        "anonymous": {"enabled": True},
                        "webhook": {"enabled": False},
                    },
                    "authorization": {"mode": "AlwaysAllow"},
                    "evictionHard": {
                        "memory.available": "50Mi",
                        "nodefs.available": "1%",
                        "imagefs.available": "1%",
                    },
                    "imageGCHighThresholdPercent": 100,
                    "imageGCLowThresholdPercent": 99,
                    "serializeImagePulls": False,
                    "fileCheckFrequency": "1s",
                    "syncFrequency": "5s",
                    "nodeStatusUpdateFrequency": "4s",
                }
            )
        )
        for hierarchy in self._hierarchies():
            (hierarchy / self.cgroup_root.lstrip("/")).mkdir(exist_ok=True)
        return containerd_config, kubelet_config

    def kubelet_args(self, kubeconfig: Path, config: Path) -> list[str]:
        return [
            f"--config={config}",
            f"--kubeconfig={kubeconfig}",
            f"--root-dir={self.dir / 'kubelet'}",
            f"--cert-dir={self.dir / 'kubelet-pki'}",
            "--container-runtime=remote",
            f"--container-runtime-endpoint=unix://{self.socket}",
            f"--hostname-override={self.node_name}",
            "--v=1",
        ]

    # --- images ----------------------------------------------------------------------
    def ctr(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ctr", "-a", str(self.socket), "-n", "k8s.io", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def import_images(self, tars: list[Path]) -> None:
        for tar in tars:
            result = self.ctr("images", "import", str(tar))
            if result.returncode != 0:
                raise RuntimeError(f"ctr images import {tar} failed: {result.stderr.strip()}")

    # --- cleanup ---------------------------------------------------------------------
    def stop_containers(self) -> None:
        """SIGKILL every task of this containerd and remove them (containerd still up)."""
        if not self.socket.exists():
            return
        tasks = self.ctr("tasks", "ls", "-q", timeout=30).stdout.split()
        for task in tasks:
            self.ctr("tasks", "kill", "-s", "KILL", "--all", task, timeout=30)
        for task in tasks:
            self.ctr("tasks", "rm", "-f", task, timeout=30)
        for container in self.ctr("containers", "ls", "-q", timeout=30).stdout.split():
            self.ctr("containers", "rm", container, timeout=30)

    def cleanup(self) -> None:
        """After containerd and the kubelet stopped: shims, mounts, cgroups, pod logs, the
        bridge. Each step goes on when another failed."""
        self._kill_shims()
        self._unmount_all()
        self._remove_pod_logs()
        self._remove_cgroups()
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, check=False)

    def _kill_shims(self) -> None:
        marker = str(self.socket).encode()
        for _ in range(20):
            found = False
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit():
                    continue
                try:
                    cmdline = (proc / "cmdline").read_bytes()
                except OSError:
                    continue
                if marker in cmdline and b"containerd-shim" in cmdline:
                    found = True
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(proc.name), signal.SIGKILL)
            if not found:
                return
            time.sleep(0.1)

    def _unmount_all(self) -> None:
        prefix = str(self.workdir)
        for _ in range(3):
            with open("/proc/self/mounts") as mounts:
                points = [line.split()[1] for line in mounts]
            ours = [p for p in points if p == prefix or p.startswith(prefix + "/")]
            if not ours:
                return
            for point in sorted(set(ours), key=len, reverse=True):
                subprocess.run(["umount", "-l", point], capture_output=True, check=False)

    def _remove_pod_logs(self) -> None:
        pods = self.dir / "kubelet" / "pods"
        uids = [p.name for p in pods.iterdir()] if pods.is_dir() else []
        for uid in uids:
            for logs in POD_LOGS.glob(f"*_{uid}"):
                shutil.rmtree(logs, ignore_errors=True)
        if CONTAINER_LOGS.is_dir():
            for link in CONTAINER_LOGS.iterdir():
                if link.is_symlink() and not link.exists():
                    link.unlink(missing_ok=True)

    def _hierarchies(self) -> list[Path]:
        if not CGROUP_FS.is_dir():
            return []
        return [p for p in CGROUP_FS.iterdir() if p.is_dir() and p.name != "unified"]

    def _remove_cgroups(self) -> None:
        for hierarchy in self._hierarchies():
            root = hierarchy / self.cgroup_root.lstrip("/")
            if not root.is_dir():
                continue
            # Deepest first: a cgroup dir is removed with rmdir once its children are gone.
            for _ in range(20):
                dirs = sorted(
                    (Path(d) for d, _, _ in os.walk(root)),
                    key=lambda p: len(p.parts),
                    reverse=True,
                )
                for d in dirs:
                    with contextlib.suppress(OSError):
                        d.rmdir()
                if not root.exists():
                    break
                time.sleep(0.1)
