"""Makes an OCI image from a directory, with no registry and no Docker.

The test cluster's node (containerd) can import an image in the OCI image-layout format
(https://github.com/opencontainers/image-spec/blob/main/image-layout.md): a tar holding
`oci-layout`, `index.json` and content-addressed blobs. This module writes that tar from
one or more directories, each becoming one uncompressed layer (later layers over earlier
ones), with the image config (command, environment, working directory) given here. The
image's name is put in the index as `io.containerd.image.name`, which `ctr images import`
uses, so an imported image is found under exactly that name (`imagePullPolicy: Never`).

Usage:
    python oci_image.py --name docker.io/dockyard/base:1 --layer ROOTFS [--layer DIR]
        [--cmd '["python3", "-m", "http.server"]'] [--env K=V] [--workdir /app] --out image.tar
then `ctr -a SOCK -n k8s.io images import image.tar`.
Stdlib only, so it runs under any Python 3 of the machine.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import tarfile
import tempfile
from pathlib import Path

LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"


def _layer_tar(directory: Path, out: Path) -> None:
    """Tar `directory`'s content (not the directory itself), owned by root, stable order."""

    def as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for root, dirs, files in os.walk(directory):
            dirs.sort()
            for name in sorted(dirs) + sorted(files):
                path = Path(root) / name
                arcname = str(path.relative_to(directory))
                tar.add(path, arcname=arcname, recursive=False, filter=as_root)


def _digest_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def build(
    name: str,
    layers: list[Path],
    out: Path,
    cmd: list[str] | None = None,
    env: list[str] | None = None,
    workdir: str | None = None,
) -> str:
    """Write the OCI layout tar `out`; return the manifest digest."""
    with tempfile.TemporaryDirectory(prefix="oci-image.") as tmp:
        blobs: list[tuple[str, Path | bytes]] = []
        layer_descs = []
        diff_ids = []
        for i, directory in enumerate(layers):
            tar_path = Path(tmp) / f"layer{i}.tar"
            _layer_tar(directory, tar_path)
            digest = _digest_file(tar_path)
            blobs.append((digest, tar_path))
            size = tar_path.stat().st_size
            layer_descs.append({"mediaType": LAYER_TYPE, "digest": digest, "size": size})
            diff_ids.append(digest)  # uncompressed: the diff id is the layer digest

        image_config: dict[str, object] = {
            "Env": env or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        }
        if cmd:
            image_config["Cmd"] = cmd
        if workdir:
            image_config["WorkingDir"] = workdir
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": image_config,
                "rootfs": {"type": "layers", "diff_ids": diff_ids},
            }
        ).encode()
        config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
        blobs.append((config_digest, config))

        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_TYPE,
                "config": {"mediaType": CONFIG_TYPE, "digest": config_digest, "size": len(config)},
                "layers": layer_descs,
            }
        ).encode()
        manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        blobs.append((manifest_digest, manifest))

        index = {
            "schemaVersion": 2,
            "mediaType": INDEX_TYPE,
            "manifests": [
                {
                    "mediaType": MANIFEST_TYPE,
                    "digest": manifest_digest,
                    "size": len(manifest),
                    "annotations": {
                        "io.containerd.image.name": name,
                        "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1],
                    },
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
            ],
        }

        def add_bytes(tar: tarfile.TarFile, arcname: str, data: bytes) -> None:
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        with tarfile.open(out, "w") as tar:
            add_bytes(tar, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
            add_bytes(tar, "index.json", json.dumps(index).encode())
            for digest, blob in blobs:
                arcname = "blobs/sha256/" + digest.split(":", 1)[1]
                if isinstance(blob, bytes):
                    add_bytes(tar, arcname, blob)
                else:
                    tar.add(blob, arcname=arcname)
        return manifest_digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="image name, e.g. docker.io/dockyard/base:1")
    parser.add_argument("--layer", action="append", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument(
        "--cmd", type=json.loads, help='JSON list, e.g. \'["python3", "-m", "http.server"]\''
    )
    parser.add_argument("--env", action="append")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    digest = build(args.name, args.layer, args.out, args.cmd, args.env, args.workdir)
    print(f"{args.name} {digest} -> {args.out}")


if __name__ == "__main__":
    main()
