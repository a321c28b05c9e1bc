"""Source archives: what is unpacked, what is refused, and that nothing escapes ``dest``.

Malicious archives are built here with ``tarfile``; every refusal is checked both by
``check_archive`` and by ``extract_archive`` (from a path and from a stream).
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard.builder.archive import (
    ArchiveError,
    Limits,
    Summary,
    check_archive,
    extract_archive,
)

LIMITS = Limits(max_bytes=10 * 1024 * 1024, max_entries=1000)
Member = tuple[tarfile.TarInfo, bytes | None]


def file(name: str, data: bytes = b"x", mode: int = 0o644, mtime: int = 1_700_000_000) -> Member:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, mtime
    return info, data


def directory(name: str, mode: int = 0o755) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, mode
    return info, None


def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def pax(member: Member, **headers: str) -> Member:
    member[0].pax_headers = headers
    return member


def special(name: str, kind: bytes) -> Member:
    info = tarfile.TarInfo(name)
    info.type = kind
    return info, None


def tar(*members: Member, compress: bool = True, fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if compress else "w", format=fmt) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


class Layout:
    """A dest three levels down, so '..'-style escapes land in ``root``, where they show."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dest = root / "a" / "b" / "dest"
        self.dest.mkdir(parents=True)
        self.upload = root / "upload.tar.gz"

    def outside(self) -> list[str]:
        """Everything under root that is not the upload, dest or dest's contents."""
        expected = {self.upload, self.dest, *self.dest.parents}
        return [
            str(path.relative_to(self.root))
            for path in sorted(self.root.rglob("*"))
            if path not in expected and self.dest not in path.parents
        ]

    def files(self) -> dict[str, str]:
        """Every path in dest, with what it is (file contents, 'dir' or '-> target')."""
        seen = {}
        for path in sorted(self.dest.rglob("*")):
            key = str(path.relative_to(self.dest))
            if path.is_symlink():
                seen[key] = f"-> {os.readlink(path)}"
            elif path.is_dir():
                seen[key] = "dir"
            else:
                seen[key] = path.read_text()
        return seen


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout(tmp_path)


MODES = ["check", "extract-path", "extract-stream"]


def run(mode: str, data: bytes, layout: Layout, limits: Limits = LIMITS) -> Summary:
    layout.upload.write_bytes(data)
    if mode == "check":
        return check_archive(layout.upload, limits)
    if mode == "extract-path":
        return extract_archive(layout.upload, layout.dest, limits)
    return extract_archive(io.BytesIO(data), layout.dest, limits)


def refused(mode: str, data: bytes, layout: Layout, limits: Limits = LIMITS) -> ArchiveError:
    descriptors = len(os.listdir("/proc/self/fd"))
    with pytest.raises(ArchiveError) as caught:
        run(mode, data, layout, limits)
    assert layout.outside() == []
    assert len(os.listdir("/proc/self/fd")) == descriptors
    return caught.value


# What is unpacked.


@pytest.mark.parametrize("compress", [True, False])
def test_unpacks_files_dirs_exec_bits_and_internal_symlinks(layout: Layout, compress: bool) -> None:
    data = tar(
        directory("bin"),
        file("bin/run", b"#!/bin/sh\n", mode=0o750),
        file("app.py", b"print()", mode=0o600),
        file("lib/deep/mod.py", b"pass"),
        link("current", "lib/deep"),
        link("lib/deep/up", "../../app.py"),
        compress=compress,
    )
    summary = extract_archive(io.BytesIO(data), layout.dest, LIMITS)
    assert summary == Summary(entries=6, unpacked_bytes=10 + 7 + 4, strip=None)
    assert layout.files() == {
        "app.py": "print()",
        "bin": "dir",
        "bin/run": "#!/bin/sh\n",
        "current": "-> lib/deep",
        "lib": "dir",
        "lib/deep": "dir",
        "lib/deep/mod.py": "pass",
        "lib/deep/up": "-> ../../app.py",
    }
    assert stat.S_IMODE((layout.dest / "bin/run").stat().st_mode) == 0o755
    assert stat.S_IMODE((layout.dest / "app.py").stat().st_mode) == 0o644
    for folder in ("bin", "lib", "lib/deep"):
        assert stat.S_IMODE((layout.dest / folder).stat().st_mode) == 0o755
    assert (layout.dest / "current" / "mod.py").read_text() == "pass"
    assert (layout.dest / "lib/deep/up").read_text() == "print()"
    assert (layout.dest / "app.py").stat().st_mtime == 1_700_000_000
    assert not (layout.dest / ".dockyard-unpack").exists()
    layout.upload.write_bytes(data)
    assert check_archive(layout.upload, LIMITS) == summary


@pytest.mark.parametrize("compress", [True, False])
def test_a_pipe_is_read_once_and_no_descriptor_is_left_open(layout: Layout, compress: bool) -> None:
    data = tar(file("app/a", b"aa"), link("app/b", "a"), compress=compress)
    assert len(data) < 16_384  # fits in the pipe, so no writer thread is needed
    before = len(os.listdir("/proc/self/fd"))
    read_end, write_end = os.pipe()
    os.write(write_end, data)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        assert not pipe.seekable()
        assert extract_archive(pipe, layout.dest, LIMITS) == Summary(2, 2, strip="app")
    assert layout.files() == {"a": "aa", "b": "-> a"}
    assert len(os.listdir("/proc/self/fd")) == before


def test_format_is_detected_from_content_not_name(layout: Layout) -> None:
    upload = layout.root / "source.zip"
    upload.write_bytes(tar(file("a"), compress=False))
    assert check_archive(upload, LIMITS).entries == 1
    upload.write_bytes(tar(file("a"), compress=True))
    assert extract_archive(upload, layout.dest, LIMITS).entries == 1


def test_dot_slash_prefixes_and_root_entry(layout: Layout) -> None:
    data = tar(
        directory("."), directory("./"), directory("./src"), file("./src/a.py", b"a"), file("./b")
    )
    assert run("extract-stream", data, layout) == Summary(3, 2, strip=None)
    assert layout.files() == {"b": "x", "src": "dir", "src/a.py": "a"}


@pytest.mark.parametrize("mode", MODES)
def test_single_top_level_directory_is_stripped(layout: Layout, mode: str) -> None:
    data = tar(
        directory("./myapp"),
        file("./myapp/Procfile", b"web: x"),
        file("myapp/lib/a.py", b"a"),
        link("myapp/lib/b.py", "a.py"),
        link("myapp/lib/top", ".."),
        link("myapp/lib/self", "myapp/lib/a.py", kind=tarfile.LNKTYPE),
    )
    summary = run(mode, data, layout)
    assert summary.strip == "myapp"
    if mode != "check":
        assert layout.files() == {
            "Procfile": "web: x",
            "lib": "dir",
            "lib/a.py": "a",
            "lib/b.py": "-> a.py",
            "lib/self": "a",
            "lib/top": "-> ..",
        }
        assert (layout.dest / "lib/top/Procfile").read_text() == "web: x"


def test_a_top_directory_without_its_own_entry_is_stripped(layout: Layout) -> None:
    summary = run("extract-path", tar(file("app-1.0/a"), file("app-1.0/b")), layout)
    assert summary.strip == "app-1.0"
    assert layout.files() == {"a": "x", "b": "x"}


@pytest.mark.parametrize(
    "members",
    [
        [file("a"), file("b")],
        [file("app/a"), file("README")],
        [file("app/a"), directory("other")],
        [file("only")],
        [link("app", "real")],
    ],
    ids=["two-files", "dir-and-file", "two-dirs", "single-file", "top-symlink"],
)
def test_nothing_is_stripped_without_a_single_top_directory(
    layout: Layout, members: list[Member]
) -> None:
    data = tar(*members)
    assert run("check", data, layout).strip is None
    assert extract_archive(layout.upload, layout.dest, LIMITS).strip is None
    assert set(layout.files()) >= {info.name for info, _ in members}


@pytest.mark.parametrize("strip", [True, False])
def test_an_entry_named_like_the_work_directory_is_kept(layout: Layout, strip: bool) -> None:
    prefix = "top/" if strip else ""
    data = tar(file(f"{prefix}.dockyard-unpack", b"mine"), file(f"{prefix}other", b"o"))
    assert run("extract-stream", data, layout).strip == ("top" if strip else None)
    assert layout.files() == {".dockyard-unpack": "mine", "other": "o"}


def test_modes_do_not_depend_on_the_umask(layout: Layout) -> None:
    data = tar(file("implicit/dir/f", mode=0o777), directory("explicit", mode=0o700))
    old = os.umask(0o077)
    try:
        run("extract-path", data, layout)
    finally:
        os.umask(old)
    modes = {
        name: stat.S_IMODE((layout.dest / name).stat().st_mode)
        for name in ("implicit", "implicit/dir", "implicit/dir/f", "explicit")
    }
    assert modes == {
        "implicit": 0o755,
        "implicit/dir": 0o755,
        "implicit/dir/f": 0o755,
        "explicit": 0o755,
    }


def test_special_bits_and_owners_are_dropped(layout: Layout) -> None:
    setuid = file("setuid", mode=0o4755)
    setuid[0].uid = setuid[0].gid = 4321
    setuid[0].uname = setuid[0].gname = "nobody-here"
    data = tar(
        setuid,
        file("setgid", mode=0o2644),
        directory("sticky", mode=0o1777),
        directory("ro", 0o500),
    )
    run("extract-path", data, layout)
    modes = {
        name: stat.S_IMODE((layout.dest / name).stat().st_mode)
        for name in ("setuid", "setgid", "sticky", "ro")
    }
    assert modes == {"setuid": 0o755, "setgid": 0o644, "sticky": 0o755, "ro": 0o755}
    assert (layout.dest / "setuid").stat().st_uid == os.getuid()


def test_duplicate_files_overwrite_without_touching_hard_links(layout: Layout) -> None:
    data = tar(
        file("a", b"first"),
        link("b", "a", kind=tarfile.LNKTYPE),
        file("a", b"second"),
        directory("d"),
        directory("d"),
    )
    run("extract-stream", data, layout)
    assert layout.files() == {"a": "second", "b": "first", "d": "dir"}


def test_hard_links_share_the_file(layout: Layout) -> None:
    run("extract-path", tar(file("a", b"data"), link("sub/b", "./a", kind=tarfile.LNKTYPE)), layout)
    assert (layout.dest / "sub/b").read_text() == "data"
    assert (layout.dest / "sub/b").stat().st_ino == (layout.dest / "a").stat().st_ino


# What is refused, and why.


def _absolute(layout: Layout) -> str:
    return str(layout.root / "abs-sentinel")


BAD = {
    "dotdot": (lambda _: [file("../evil")], "'../evil' has a '..' component"),
    "dotdot-deep": (lambda _: [file("ok/../../../../evil")], "'ok/../../../../evil' has a '..'"),
    "absolute": (lambda lay: [file(_absolute(lay))], "has an absolute path"),
    "nul": (lambda _: [pax(file("x"), path="a\x00b")], "'a\\x00b' has a NUL byte in its path"),
    "chardev": (lambda _: [special("dev", tarfile.CHRTYPE)], "'dev' is a device or FIFO"),
    "blockdev": (lambda _: [special("blk", tarfile.BLKTYPE)], "'blk' is a device or FIFO"),
    "fifo": (lambda _: [special("pipe", tarfile.FIFOTYPE)], "'pipe' is a device or FIFO"),
    "unknown-type": (lambda _: [special("vol", b"V")], "'vol' has type b'V'"),
    "sparse": (lambda _: [special("holes", tarfile.GNUTYPE_SPARSE)], "'holes' is a sparse file"),
    "symlink-absolute": (
        lambda _: [link("link", "/etc"), file("link/passwd")],
        "'link' is a symbolic link to an absolute path ('/etc')",
    ),
    "symlink-up": (
        lambda _: [link("sub/link", "../../evil")],
        "'sub/link' is a symbolic link pointing outside the archive ('../../evil')",
    ),
    "symlink-dotdot-inside": (
        lambda _: [link("here", "."), link("up", "here/..")],
        "'up' is a symbolic link with '..' inside its target ('here/..')",
    ),
    "symlink-nul": (
        lambda _: [pax(link("l", "a"), linkpath="a\x00b")],
        "'l' has a NUL byte in its link target",
    ),
    "through-symlink": (
        lambda _: [directory("sub"), link("link", "sub"), file("link/file")],
        "'link/file' passes through the symbolic link 'link'",
    ),
    "through-symlink-deep": (
        lambda _: [link("a", "."), directory("a/b"), file("a/b/c")],
        "'a/b' passes through the symbolic link 'a'",
    ),
    "inside-file": (lambda _: [file("a"), file("a/b")], "'a/b' is inside 'a', which is a file"),
    "file-over-dir": (
        lambda _: [directory("d"), file("d")],
        "'d' would replace a directory of the same name",
    ),
    "file-over-implicit-dir": (
        lambda _: [file("d/x"), file("d")],
        "'d' would replace a directory of the same name",
    ),
    "symlink-over-dir": (
        lambda _: [file("d/x"), link("d", "/tmp")],
        "'d' would replace a directory of the same name",
    ),
    "dir-over-symlink": (
        lambda _: [link("d", "x"), directory("d")],
        "'d' would replace a symbolic link of the same name",
    ),
    "symlink-twice": (
        lambda _: [link("d", "x"), link("d", "y")],
        "'d' would replace a symbolic link of the same name",
    ),
    "symlink-over-file": (
        lambda _: [file("f"), link("f", "y")],
        "'f' would replace a file of the same name",
    ),
    "hardlink-unseen": (
        lambda _: [link("h", "later", kind=tarfile.LNKTYPE), file("later")],
        "'h' is a hard link to 'later', not to a file before it",
    ),
    "hardlink-dir": (
        lambda _: [directory("d"), link("h", "d", kind=tarfile.LNKTYPE)],
        "'h' is a hard link to 'd', not to a file before it",
    ),
    "hardlink-self": (
        lambda _: [file("h"), link("h", "h", kind=tarfile.LNKTYPE)],
        "'h' is a hard link to 'h', not to a file before it",
    ),
    "hardlink-symlink": (
        lambda _: [link("s", "x"), link("h", "s", kind=tarfile.LNKTYPE)],
        "'h' is a hard link to 's', not to a file before it",
    ),
    "hardlink-up": (
        lambda _: [link("h", "../evil", kind=tarfile.LNKTYPE)],
        "'h' has a '..' component in its link target",
    ),
    "hardlink-absolute": (
        lambda lay: [link("h", _absolute(lay), kind=tarfile.LNKTYPE)],
        "'h' has an absolute link target",
    ),
    "strip-symlink-escapes": (
        lambda _: [file("app/a"), link("app/out", "../other")],
        "'app/out' is a symbolic link pointing outside 'app/', which is stripped",
    ),
    "strip-symlink-reenters": (
        lambda _: [file("app/a"), link("app/b", "../app/a")],
        "'app/b' is a symbolic link pointing outside 'app/', which is stripped",
    ),
    "root-not-dir": (lambda _: [file("./")], "'./' names the archive's root"),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_entries_are_refused_by_name(layout: Layout, mode: str, case: str) -> None:
    build, message = BAD[case]
    # A harmless entry first, inside the top directory when stripping is what is tested.
    members = [file("app/good.py" if case.startswith("strip") else "good.py"), *build(layout)]
    error = refused(mode, tar(*members), layout)
    assert message in str(error)
    assert str(error).startswith(("Archive entry '", 'Archive entry "'))
    assert error.entry is not None and repr(error.entry) in str(error)
    assert not (layout.root / "abs-sentinel").exists()


def test_a_negative_size_is_refused(layout: Layout) -> None:
    header = bytearray(tarfile.TarInfo("neg").tobuf(tarfile.GNU_FORMAT))
    header[124:136] = b"\xff" * 12  # base-256 -1
    header[148:156] = b"        "
    header[148:155] = b"%06o\x00" % sum(header)
    error = refused("check", bytes(header) + bytes(1024), layout)
    assert str(error) == "Archive entry 'neg' has a negative size."


# Limits.


@pytest.mark.parametrize("mode", MODES)
def test_too_many_entries(layout: Layout, mode: str) -> None:
    data = tar(*(file(f"f{i}") for i in range(11)))
    error = refused(mode, data, layout, Limits(max_bytes=1000, max_entries=10))
    assert str(error) == "The archive has more than 10 entries."
    assert len(list(layout.dest.rglob("f*"))) <= 10
    assert run("check", data, layout, Limits(max_bytes=1000, max_entries=11)).entries == 11


@pytest.mark.parametrize("mode", MODES)
def test_too_many_bytes(layout: Layout, mode: str) -> None:
    data = tar(file("a", bytes(600)), file("b", bytes(500)))
    error = refused(mode, data, layout, Limits(max_bytes=1024))
    assert str(error) == "The archive unpacks to more than 1 KB."
    assert error.entry == "b"
    assert not (layout.dest / ".dockyard-unpack/b").exists()
    assert run("check", data, layout, Limits(max_bytes=1100)).unpacked_bytes == 1100


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """About 200 KB of gzip that unpacks to 200 MB of zeros, in 1 MB files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        zeros = bytes(1 << 20)
        for i in range(200):
            info = tarfile.TarInfo(f"app/zeros{i}")
            info.size = len(zeros)
            archive.addfile(info, io.BytesIO(zeros))
    return buffer.getvalue()


def test_gzip_bomb_is_refused_after_reading_a_little(layout: Layout, bomb: bytes) -> None:
    assert len(bomb) < 400_000
    source = io.BytesIO(bomb)
    with pytest.raises(ArchiveError, match=r"^The archive unpacks to more than 8 MB\.$"):
        extract_archive(source, layout.dest, Limits(max_bytes=8 << 20))
    assert source.tell() < len(bomb) // 4
    written = sum(p.stat().st_size for p in layout.dest.rglob("*") if p.is_file())
    assert written <= 8 << 20
    layout.upload.write_bytes(bomb)
    with pytest.raises(ArchiveError, match="more than 8 MB"):
        check_archive(layout.upload, Limits(max_bytes=8 << 20))


@pytest.mark.parametrize("mode", MODES)
def test_a_huge_declared_size_is_refused_before_reading_data(layout: Layout, mode: str) -> None:
    header = tarfile.TarInfo("huge")
    header.size = 1 << 40
    data = gzip.compress(header.tobuf(tarfile.GNU_FORMAT))  # the terabyte is not even there
    error = refused(mode, data, layout)
    assert str(error) == "The archive unpacks to more than 10 MB."
    assert error.entry == "huge"


@pytest.mark.parametrize("mode", MODES)
def test_an_oversized_header_is_refused_without_reading_it_all(layout: Layout, mode: str) -> None:
    # tarfile would hold such a header in memory whole; it is cut off at 1 MB instead.
    data = tar(file("a"), pax(file("b"), comment="x" * (4 << 20)))
    error = refused(mode, data, layout)
    assert str(error) == (
        "The source is not a valid .tar.gz archive: it has oversized headers or trailing data"
        " after entry 'a'."
    )


@pytest.mark.parametrize(
    ("limit", "text"),
    [(100, "100 bytes"), (1536, "1.5 KB"), (512 << 20, "512 MB"), (3 << 30, "3 GB")],
)
def test_sizes_in_messages_are_for_people(layout: Layout, limit: int, text: str) -> None:
    huge = tarfile.TarInfo("big")
    huge.size = 1 << 40
    error = refused("check", gzip.compress(huge.tobuf()), layout, Limits(max_bytes=limit))
    assert str(error) == f"The archive unpacks to more than {text}."


# Input that is not a tar archive at all.


def _truncations() -> Iterator[tuple[str, bytes]]:
    whole = tar(file("a", os.urandom(3000)), file("b", b"bee"))
    for cut in (10, len(whole) // 2, len(whole) - 4):
        yield f"gzip-cut-at-{cut}", whole[:cut]
    plain = tar(file("a", os.urandom(3000)), compress=False)
    yield "tar-cut-in-data", plain[:1500]
    yield "tar-cut-in-header", plain[:300]


NOT_TAR = [
    ("empty", b""),
    ("garbage", b"this is not an archive at all\n" * 40),
    ("gzip-of-text", gzip.compress(b"hello world\n" * 100)),
    ("gzip-garbage", b"\x1f\x8b" + b"\x00garbage" * 100),
    ("one-byte", b"\x1f"),
    *_truncations(),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "data"), NOT_TAR, ids=[name for name, _ in NOT_TAR])
def test_input_that_is_not_a_tar_archive(layout: Layout, mode: str, name: str, data: bytes) -> None:
    error = refused(mode, data, layout)
    assert str(error).startswith("The source is not a valid .tar.gz archive: "), str(error)


def test_an_archive_with_no_entries_is_refused(layout: Layout) -> None:
    assert str(refused("check", tar(), layout)) == "The archive is empty."
    assert str(refused("extract-path", tar(directory(".")), layout)) == "The archive is empty."


def test_trailing_garbage_after_gzip_is_refused(layout: Layout) -> None:
    error = refused("extract-stream", tar(file("a")) + b"junk", layout)
    assert "not a valid .tar.gz archive" in str(error)


# Extraction errors.


@pytest.mark.parametrize("name", ["n" * 300, "n" * 300 + "/inside"])
def test_os_errors_are_reported_with_the_entry(layout: Layout, name: str) -> None:
    data = tar(file(name))  # longer than any file system allows; check_archive does not mind
    assert run("check", data, layout).entries == 1
    before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(ArchiveError) as caught:
        extract_archive(layout.upload, layout.dest, LIMITS)
    assert (
        str(caught.value) == f"Could not unpack the archive at entry '{name}': File name too long."
    )
    assert caught.value.entry == name
    assert len(os.listdir("/proc/self/fd")) == before


def test_dest_must_be_empty(layout: Layout) -> None:
    (layout.dest / "x").write_text("")
    with pytest.raises(ValueError, match="empty directory"):
        extract_archive(io.BytesIO(tar(file("a"))), layout.dest, LIMITS)


# Whatever the entries, nothing lands outside dest, and check and extract agree.

# Names are mostly ordinary, so that many archives get through to extraction; link targets
# are where the trouble is.
_NAME = st.tuples(
    st.integers(0, 20).map(lambda n: n == 0),
    st.lists(st.sampled_from([*"abcd" * 4, ".", "", ".."]), min_size=1, max_size=3),
)
_TARGET = st.tuples(
    st.integers(0, 8).map(lambda n: n == 0),
    st.lists(st.sampled_from(["a", "b", "c", "..", ".", ""]), min_size=1, max_size=4),
)
_KIND = st.sampled_from(["file", "dir", "symlink", "hardlink"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_KIND, _NAME, _TARGET), max_size=8), st.booleans())
def test_nothing_is_written_outside_dest(
    entries: list[tuple[str, tuple[bool, list[str]], tuple[bool, list[str]]]], top: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        layout = Layout(Path(tmp))

        def path(absolute: bool, parts: list[str], prefix: str = "") -> str:
            return f"{layout.root}/" + "/".join(parts) if absolute else prefix + "/".join(parts)

        members: list[Member] = [directory("top")] if top else []
        for kind, name, target in entries:
            name_text = path(*name, prefix="top/" if top else "")
            if kind == "file":
                members.append(file(name_text, b"data"))
            elif kind == "dir":
                members.append(directory(name_text))
            else:
                linktype = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
                members.append(link(name_text, path(*target), kind=linktype))
        data = tar(*members)
        layout.upload.write_bytes(data)
        try:
            checked: Summary | str = check_archive(layout.upload, LIMITS)
        except ArchiveError as error:
            checked = str(error)
        try:
            extracted: Summary | str = extract_archive(io.BytesIO(data), layout.dest, LIMITS)
        except ArchiveError as error:
            extracted = str(error)
        assert layout.outside() == []
        assert checked == extracted
        dest = os.path.realpath(layout.dest)
        for found in layout.dest.rglob("*"):
            assert os.path.commonpath([os.path.realpath(found), dest]) == dest
