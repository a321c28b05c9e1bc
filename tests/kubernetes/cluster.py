"""A real, small Kubernetes cluster on loopback for the tests: etcd, kube-apiserver,
kube-controller-manager, kube-scheduler and a kubemark hollow kubelet named ``127.0.0.1``,
started from the binaries that ``scripts/kube-test-cluster/build.sh`` caches, and stopped
again without leaving a process behind.

With ``DOCKYARD_KUBE_NODE=real`` and a bin dir holding ``kubelet`` and ``pause`` (build.sh
recipe 3), the node is real instead: containerd, runc and a kubelet (``node.py``), with the
pause image and ``<version>/images/*.tar`` imported at start (issue 26, in progress).

The hollow node runs no containers: its pods reach Running (images are never pulled), but
logs, exec and the completion of Jobs or ``restartPolicy: Never`` pods do not work there.

Every process runs in its own session with its output in ``<workdir>/logs/<name>.log``,
and under ``setpriv --pdeathsig KILL`` where available, so that even a test run killed
outright takes its cluster with it (start the cluster from the main thread: the signal
follows the thread that started the process). ``stop()`` stops the hollow node, the
scheduler, the controller manager, the API server and then etcd, each with SIGTERM and,
after a grace period, SIGKILL, and waits for every one of them.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.kubernetes.node import PAUSE_IMAGE, RealNode, missing_for_real_node

CACHE_ENV = "DOCKYARD_KUBE_CACHE"
KEEP_ENV = "DOCKYARD_KUBE_KEEP_DIR"  # 1 keeps the work dir (logs, certs) after stop
NODE_ENV = "DOCKYARD_KUBE_NODE"  # "real": containerd + kubelet (tests/kubernetes/node.py)
BINARIES = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubemark",
    "kubectl",
)
NODE_NAME = "127.0.0.1"
HOST = "127.0.0.1"
SERVICE_CIDR = "10.0.0.0/24"  # only numbers handed to Services: nothing routes to them
GRACE_SECONDS = 10.0
log = logging.getLogger(__name__)


class ClusterError(RuntimeError):
    """The cluster could not be started; the message carries the failing process's log."""


def cache_root() -> Path:
    """The same cache folder as build.sh: ``$DOCKYARD_KUBE_CACHE`` or ~/.cache/dockyard-kube."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "dockyard-kube"


def _complete(bin_dir: Path) -> bool:
    return (bin_dir / ".complete").is_file() and all(
        os.access(bin_dir / name, os.X_OK) for name in BINARIES
    )


def find_bin_dir(root: Path | None = None) -> Path | None:
    """The cached bin folder named by ``<cache>/CURRENT``, else the newest complete one."""
    root = root or cache_root()
    current = root / "CURRENT"
    if current.is_file():
        candidate = root / current.read_text().strip() / "bin"
        if _complete(candidate):
            return candidate
    found = sorted((p for p in root.glob("*/bin") if _complete(p)), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(
        ["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ClusterError(f"openssl {' '.join(args)} failed: {result.stderr.strip()}")


def make_pki(pki: Path) -> None:
    """A throwaway CA, the API server's serving certificate (127.0.0.1 and the in-cluster
    names) and the service-account signing key, all made with openssl. P-256 keys: RSA
    key generation takes seconds on a busy 2-core machine."""
    pki.mkdir(parents=True, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl(
        "req", "-x509", *ec, "-days", "3",
        "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=dockyard-test-ca",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        cwd=pki,
    )  # fmt: skip
    (pki / "apiserver.ext").write_text(
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid,issuer\n"
        "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,"
        "DNS:kubernetes.default,DNS:kubernetes.default.svc,"
        "DNS:kubernetes.default.svc.cluster.local\n"
    )
    _openssl(
        "req", *ec, "-keyout", "apiserver.key",
        "-out", "apiserver.csr", "-subj", "/CN=kube-apiserver", cwd=pki,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "3", "-extfile", "apiserver.ext",
        "-out", "apiserver.crt", cwd=pki,
    )  # fmt: skip
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sa.key", cwd=pki)
    _openssl("ec", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)


def write_kubeconfig(path: Path, *, server: str, ca_file: Path, token: str, user: str) -> None:
    """A kubeconfig with one context; JSON is valid YAML, so every client reads it."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "dockyard-test",
                "cluster": {"server": server, "certificate-authority": str(ca_file)},
            }
        ],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [
            {"name": "dockyard-test", "context": {"cluster": "dockyard-test", "user": user}}
        ],
        "current-context": "dockyard-test",
    }
    path.write_text(json.dumps(config, indent=2))
    path.chmod(0o600)


@dataclass
class _Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path


@dataclass(eq=False)  # identity hashing: live clusters are kept in a set
class KubeTestCluster:
    """One cluster. ``start()`` returns when the API answers, the node is Ready and the
    controller manager has made the default service account; ``stop()`` is idempotent.
    Use it as a context manager, or call ``stop()`` in a ``finally``."""

    bin_dir: Path
    workdir: Path | None = None
    node_name: str = NODE_NAME
    server: str = ""
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    kubeconfig: Path = Path()
    ca_file: Path = Path()
    startup_seconds: float = 0.0
    _procs: list[_Proc] = field(default_factory=list)
    _own_workdir: bool = False
    _scratch: list[Path] = field(default_factory=list)
    node: RealNode | None = None  # the real node, when this machine can run one

    # --- lifecycle -------------------------------------------------------------------
    def __enter__(self) -> KubeTestCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 120.0) -> KubeTestCluster:
        started = time.monotonic()
        if self.workdir is None:
            # Short on purpose: unix socket paths under it must stay below 108 bytes.
            self.workdir = Path(tempfile.mkdtemp(prefix="dockyard-kube-"))
            self._own_workdir = True
        _LIVE.add(self)
        try:
            self._start(started + timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        """Stop in reverse start order (kubemark ... apiserver, then etcd) and wait for all."""
        while self._procs:
            if self.node is not None and self._procs[-1].name == "containerd":
                self.node.stop_containers()  # the kubelet is gone: nothing restarts them
            _terminate(self._procs.pop())
        if self.node is not None:
            self.node.cleanup()
            self.node = None
        _LIVE.discard(self)
        while self._scratch:
            shutil.rmtree(self._scratch.pop(), ignore_errors=True)
        if self._own_workdir and self.workdir and os.environ.get(KEEP_ENV) != "1":
            shutil.rmtree(self.workdir, ignore_errors=True)
            self._own_workdir = False

    # --- helpers for tests -----------------------------------------------------------
    @property
    def kubectl_path(self) -> Path:
        return self.bin_dir / "kubectl"

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run the cached kubectl (the same version as the server) against this cluster."""
        result = subprocess.run(
            [str(self.kubectl_path), f"--kubeconfig={self.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
            )
        return result

    def get(self, path: str, timeout: float = 5.0) -> Any:
        """GET an API path as the admin; the parsed JSON body."""
        request = urllib.request.Request(
            self.server + path, headers={"Authorization": f"Bearer {self.token}"}
        )
        context = ssl.create_default_context(cafile=str(self.ca_file))
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return json.loads(response.read())

    def logs(self) -> dict[str, Path]:
        assert self.workdir is not None
        return {p.stem: p for p in sorted((self.workdir / "logs").glob("*.log"))}

    # --- startup ---------------------------------------------------------------------
    def _start(self, deadline: float) -> None:
        assert self.workdir is not None
        work = self.workdir
        (work / "logs").mkdir(parents=True, exist_ok=True)
        pki = work / "pki"
        make_pki(pki)
        self.ca_file = pki / "ca.crt"

        node_token = secrets.token_hex(16)
        tokens = work / "tokens.csv"
        # token,user,uid,"groups": the admin, and the hollow kubelet as a real node identity
        # (Node authorizer: system:node:<name> in system:nodes).
        tokens.write_text(
            f'{self.token},admin,admin,"system:masters"\n'
            f'{node_token},system:node:{self.node_name},node-{self.node_name},"system:nodes"\n'
        )
        tokens.chmod(0o600)

        etcd_client, etcd_peer, api_port, kubelet_port = (free_port() for _ in range(4))
        self.server = f"https://{HOST}:{api_port}"
        self.kubeconfig = work / "admin.kubeconfig"
        write_kubeconfig(
            self.kubeconfig,
            server=self.server,
            ca_file=self.ca_file,
            token=self.token,
            user="admin",
        )
        node_kubeconfig = work / "node.kubeconfig"
        write_kubeconfig(
            node_kubeconfig,
            server=self.server,
            ca_file=self.ca_file,
            token=node_token,
            user=f"system:node:{self.node_name}",
        )

        etcd_url = f"http://{HOST}:{etcd_client}"
        peer_url = f"http://{HOST}:{etcd_peer}"
        self._spawn(
            "etcd",
            "--name=dockyard-test",
            f"--data-dir={work / 'etcd'}",
            f"--listen-client-urls={etcd_url}",
            f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=dockyard-test={peer_url}",
            "--log-level=warn",
        )
        self._wait(deadline, "etcd", lambda: _http_ok(etcd_url + "/health"))

        self._spawn(
            "kube-apiserver",
            f"--etcd-servers={etcd_url}",
            f"--bind-address={HOST}",
            f"--advertise-address={HOST}",
            f"--secure-port={api_port}",
            "--insecure-port=0",
            f"--cert-dir={work / 'apiserver'}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={self.ca_file}",
            f"--token-auth-file={tokens}",
            "--authorization-mode=Node,RBAC",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--allow-privileged=true",
            # The "kubernetes" Service would get 127.0.0.1 as its endpoint, which validation
            # refuses (loopback) every 10 s; nothing in the tests needs that endpoint.
            "--endpoint-reconciler-type=none",
            "--profiling=false",
            "--v=0",
        )
        self._wait(deadline, "kube-apiserver", lambda: self._api_ok("/readyz"))

        self._spawn(
            "kube-controller-manager",
            f"--kubeconfig={self.kubeconfig}",
            "--leader-elect=false",
            "--port=0",
            "--secure-port=0",
            f"--service-account-private-key-file={pki / 'sa.key'}",
            f"--root-ca-file={self.ca_file}",
            f"--cluster-signing-cert-file={self.ca_file}",
            f"--cluster-signing-key-file={pki / 'ca.key'}",
            "--profiling=false",
            "--v=0",
        )
        self._spawn(
            "kube-scheduler",
            f"--kubeconfig={self.kubeconfig}",
            "--leader-elect=false",
            "--port=0",
            "--secure-port=0",
            "--profiling=false",
            "--v=0",
        )
        # The real node is opt-in while the tests still assume the hollow one (issue 26).
        if os.environ.get(NODE_ENV) == "real" and not missing_for_real_node(self.bin_dir):
            self._start_real_node(deadline, node_kubeconfig, kubelet_port)
        else:
            self._start_hollow_node(node_kubeconfig, kubelet_port)
        self._wait(deadline, "the node to be Ready", self._node_ready)
        self._wait(deadline, "the default service account", self._default_sa)

    def _start_real_node(self, deadline: float, kubeconfig: Path, kubelet_port: int) -> None:
        """containerd, the images (pause and <version>/images/*.tar), then the kubelet."""
        assert self.workdir is not None
        node = RealNode(workdir=self.workdir, bin_dir=self.bin_dir, node_name=self.node_name)
        self.node = node
        containerd_config, kubelet_config = node.write_configs(kubelet_port)
        self._spawn(
            "containerd",
            f"--config={containerd_config}",
            program=shutil.which("containerd") or "containerd",
        )
        self._wait(deadline, "containerd", lambda: node.ctr("version").returncode == 0)
        pause_root = node.dir / "pause-root"
        pause_root.mkdir()
        shutil.copy2(self.bin_dir / "pause", pause_root / "pause")
        pause_tar = node.dir / "pause.tar"
        _oci_image(PAUSE_IMAGE, pause_root, pause_tar, cmd=["/pause"])
        node.import_images([pause_tar, *sorted((self.bin_dir.parent / "images").glob("*.tar"))])
        self._spawn("kubelet", *node.kubelet_args(kubeconfig, kubelet_config))

    def _start_hollow_node(self, node_kubeconfig: Path, kubelet_port: int) -> None:
        assert self.workdir is not None
        work = self.workdir
        # The hollow kubelet's TMPDIR (build.sh patches it to honour that): its root dir and
        # its unix sockets, whose paths must stay under 108 bytes whatever the workdir is.
        kubemark_tmp = Path(tempfile.mkdtemp(prefix="dkk-"))
        self._scratch.append(kubemark_tmp)
        # An empty PATH: a kubelet running as root would otherwise add its KUBE-* chains to
        # the host's iptables, when that is installed. The hollow node needs no helpers.
        no_tools = work / "no-tools"
        no_tools.mkdir()
        self._spawn(
            "kubemark",
            "--morph=kubelet",
            f"--name={self.node_name}",
            f"--kubeconfig={node_kubeconfig}",
            f"--kubelet-port={kubelet_port}",
            "--kubelet-read-only-port=0",
            "--kube-api-content-type=application/json",
            "--v=0",
            env={"TMPDIR": str(kubemark_tmp), "PATH": str(no_tools)},
        )

    def _spawn(
        self, name: str, *args: str, env: dict[str, str] | None = None, program: str = ""
    ) -> None:
        assert self.workdir is not None
        log = self.workdir / "logs" / f"{name}.log"
        command: list[str] = [program or str(self.bin_dir / name), *args]
        setpriv = shutil.which("setpriv")
        if setpriv:
            command = [setpriv, "--pdeathsig", "KILL", "--", *command]
        with log.open("ab") as out:
            popen = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        self._procs.append(_Proc(name, popen, log))

    def _wait(self, deadline: float, what: str, ready: Any) -> None:
        began = time.monotonic()
        while True:
            for proc in self._procs:
                if proc.popen.poll() is not None:
                    raise ClusterError(
                        f"{proc.name} exited with {proc.popen.returncode} while waiting for "
                        f"{what}; the end of {proc.log}:\n{_tail(proc.log)}"
                    )
            if ready():
                log.info("kube test cluster: %s ready in %.1f s", what, time.monotonic() - began)
                return
            if time.monotonic() > deadline:
                tails = "\n".join(f"--- {p.name}:\n{_tail(p.log, 15)}" for p in self._procs)
                raise ClusterError(f"timed out waiting for {what}\n{tails}")
            time.sleep(0.25)

    def _api_ok(self, path: str) -> bool:
        try:
            self.get(path)
        except json.JSONDecodeError:
            return True  # /readyz answers "ok", not JSON
        except (OSError, urllib.error.URLError):
            return False
        return True

    def _node_ready(self) -> bool:
        try:
            node = self.get(f"/api/v1/nodes/{self.node_name}")
        except (OSError, urllib.error.URLError, ValueError):
            return False
        conditions = node.get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def _default_sa(self) -> bool:
        try:
            self.get("/api/v1/namespaces/default/serviceaccounts/default")
        except (OSError, urllib.error.URLError, ValueError):
            return False
        return True


OCI_IMAGE_SCRIPT = Path(__file__).parents[2] / "scripts" / "kube-test-cluster" / "oci_image.py"


def _oci_image(name: str, layer: Path, out: Path, cmd: list[str]) -> None:
    result = subprocess.run(
        ["python3", str(OCI_IMAGE_SCRIPT), "--name", name, "--layer", str(layer),
         "--out", str(out), "--cmd", json.dumps(cmd)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise ClusterError(f"building the image {name} failed: {result.stderr.strip()}")


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _signal_group(popen: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, sig)  # its own session: the process group is its pid


def _terminate(proc: _Proc, grace: float = GRACE_SECONDS) -> None:
    if proc.popen.poll() is None:
        _signal_group(proc.popen, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(timeout=grace)
    # SIGKILL the group even after a clean exit: nothing it forked may outlive it.
    _signal_group(proc.popen, signal.SIGKILL)
    proc.popen.wait()


_LIVE: set[KubeTestCluster] = set()


@atexit.register
def _stop_leftovers() -> None:
    """A run interrupted between start and stop still stops its clusters on exit."""
    for cluster in list(_LIVE):
        cluster.stop()


def start_cluster(
    bin_dir: Path, workdir: Path | None = None, timeout: float = 120.0
) -> KubeTestCluster:
    return KubeTestCluster(bin_dir=bin_dir, workdir=workdir).start(timeout=timeout)


__all__ = [
    "BINARIES",
    "ClusterError",
    "KubeTestCluster",
    "cache_root",
    "find_bin_dir",
    "start_cluster",
]
