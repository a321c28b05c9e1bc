"""The builder's pure rules, called directly: what a ``bin/release`` document declares
(``buildpack_rules.parse_release``), the entries of a ``.buildpacks`` file, which directory a
buildpack name, path or URL resolves to (and which are refused, with what message), how the
Procfile and the buildpacks' default process types combine, which SSH commands the git
endpoint accepts (``repos.parse_command``), and the sizes ``core.settings`` understands.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from dockyard.builder.buildpack_rules import (
    BuildpackSpecError,
    parse_release,
    process_types,
    read_buildpacks_file,
    resolve,
)
from dockyard.builder.repos import parse_command
from dockyard.core.settings import Settings, parse_size

# parse_release ------------------------------------------------------------------------------


def test_release_plain_commands() -> None:
    text = (
        "---\n"
        "default_process_types:\n"
        "  web: gunicorn app:app --bind 0.0.0.0:$PORT\n"
        "  worker:   python worker.py   \n"
    )
    assert parse_release(text) == {
        "web": "gunicorn app:app --bind 0.0.0.0:$PORT",
        "worker": "python worker.py",
    }


def test_release_single_quoted_commands_undouble_their_quotes() -> None:
    text = "default_process_types:\n  web: 'echo ''hi'' there'\n  clock: 'a: b'\n"
    assert parse_release(text) == {"web": "echo 'hi' there", "clock": "a: b"}


def test_release_double_quoted_commands_unescape_quotes_and_backslashes() -> None:
    text = 'default_process_types:\n  web: "sh -c \\"exec ./server\\""\n  win: "C:\\\\app\\\\run"\n'
    assert parse_release(text) == {"web": 'sh -c "exec ./server"', "win": "C:\\app\\run"}


def test_release_mismatched_quotes_are_kept_as_written() -> None:
    text = "default_process_types:\n  web: \"./run '\n"
    assert parse_release(text) == {"web": "\"./run '"}


def test_release_empty_mapping_and_empty_output() -> None:
    assert parse_release("---\ndefault_process_types: {}\n") == {}
    assert parse_release("") == {}
    assert parse_release("\n\n") == {}


def test_release_other_top_level_keys_are_ignored() -> None:
    text = (
        "---\n"
        "config_vars:\n"
        "  PATH: /app/bin:/usr/bin\n"
        "  web: not-a-process\n"
        "addons:\n"
        "  - heroku-postgresql\n"
        "default_process_types:\n"
        "  web: ./web\n"
    )
    assert parse_release(text) == {"web": "./web"}


def test_release_comments_and_document_markers_are_skipped() -> None:
    text = (
        "# made by a buildpack\n"
        "---\n"
        "default_process_types:\n"
        "  # the web process\n"
        "  web: ./web\n"
        "\n"
        "  worker: ./worker\n"
    )
    assert parse_release(text) == {"web": "./web", "worker": "./worker"}


def test_release_entries_after_another_top_level_key_are_not_taken() -> None:
    text = "default_process_types:\n  web: ./web\naddons: []\n  worker: ./worker\n"
    assert parse_release(text) == {"web": "./web"}


def test_release_a_type_with_no_command_is_skipped() -> None:
    assert parse_release("default_process_types:\n  web:\n  worker: ./w\n") == {"worker": "./w"}


# read_buildpacks_file -----------------------------------------------------------------------


def test_buildpacks_file_skips_comments_and_blanks_and_keeps_hashes_inside_lines() -> None:
    text = (
        "# first the runtime\n"
        "\n"
        "   python   \n"
        "   # indented comment\n"
        "https://example.com/bp.git#v1.2\n"
        "/srv/buildpacks/extra\n"
    )
    assert read_buildpacks_file(text) == [
        "python",
        "https://example.com/bp.git#v1.2",
        "/srv/buildpacks/extra",
    ]
    assert read_buildpacks_file("") == []
    assert read_buildpacks_file("\r\n# only a comment\r\n") == []


# resolve ------------------------------------------------------------------------------------


def _tree(tmp_path: Path) -> dict[str, Path]:
    """A host with a source root (holding buildpacks), a data dir and a dir outside both."""
    root = tmp_path / "root"
    data = tmp_path / "data"
    outside = tmp_path / "outside"
    for d in (root / "bp", root / "with space", data / "buildpacks" / "x", outside / "bp"):
        d.mkdir(parents=True)
    return {"root": root, "data": data, "outside": outside, "tmp": tmp_path}


def _resolve(spec: str, t: dict[str, Path], roots: list[Path] | None = None) -> Path:
    builtin = {"python": Path("/b/python"), "nodejs": Path("/b/nodejs")}
    installed = {"mine": Path("/i/mine")}
    return resolve(
        spec,
        builtin=builtin,
        installed=installed,
        roots=[t["root"]] if roots is None else roots,
        data=t["data"],
    )


def test_resolve_builtin_and_installed_names(tmp_path: Path) -> None:
    t = _tree(tmp_path)
    assert _resolve("python", t) == Path("/b/python")
    assert _resolve("  nodejs \n", t) == Path("/b/nodejs")
    assert _resolve("heroku/python", t) == Path("/b/python")
    assert _resolve("mine", t) == Path("/i/mine")


def test_resolve_unknown_name_lists_what_is_available(tmp_path: Path) -> None:
    t = _tree(tmp_path)
    with pytest.raises(BuildpackSpecError) as info:
        _resolve("ruby", t)
    assert str(info.value) == "There is no buildpack named ruby. Available: mine, nodejs, python."
    # heroku/ only aliases built-ins; a relative path is just an unknown name
    for spec in ("heroku/mine", "heroku/ruby", "./bp"):
        with pytest.raises(BuildpackSpecError, match="There is no buildpack named"):
            _resolve(spec, t)


@pytest.mark.parametrize(
    "spec",
    [
        "https://github.com/heroku/heroku-buildpack-python.git",
        "http://example.com/bp.tgz",
        "git://example.com/bp.git",
        "git@github.com:heroku/heroku-buildpack-python.git",
    ],
)
def test_resolve_refuses_urls(tmp_path: Path, spec: str) -> None:
    with pytest.raises(BuildpackSpecError) as info:
        _resolve(spec, _tree(tmp_path))
    message = str(info.value)
    assert message.startswith(f"{spec} is a URL; builds use buildpacks on this host only.")
    assert "dockyard buildpacks:add" in message


def test_resolve_accepts_paths_and_file_urls_inside_the_roots(tmp_path: Path) -> None:
    t = _tree(tmp_path)
    bp = t["root"] / "bp"
    assert _resolve(str(bp), t) == bp
    assert _resolve(f"{bp}/", t) == bp
    assert _resolve(f"file://{bp}", t) == bp
    assert _resolve(f"file://localhost{bp}", t) == bp
    assert _resolve(f"file://{t['root']}/with%20space", t) == t["root"] / "with space"
    assert _resolve(str(t["root"]), t) == t["root"]  # the root itself
    # a path that goes through a symlink is resolved to where it really is
    (t["tmp"] / "link-to-root").symlink_to(t["root"])
    assert _resolve(str(t["tmp"] / "link-to-root" / "bp"), t) == bp
    # several roots: any of them
    assert _resolve(str(t["outside"] / "bp"), t, roots=[t["root"], t["outside"]]) == (
        t["outside"] / "bp"
    )


def test_resolve_refuses_paths_outside_the_roots(tmp_path: Path) -> None:
    t = _tree(tmp_path)
    outside = t["outside"] / "bp"
    for spec in (str(outside), f"file://{outside}", f"{t['root']}/../outside/bp"):
        with pytest.raises(BuildpackSpecError) as info:
            _resolve(spec, t)
        assert str(info.value) == (
            f"The buildpack {spec} is not under a directory listed in "
            f"DOCKYARD_LOCAL_SOURCE_ROOTS ({t['root']})"
        )
    with pytest.raises(BuildpackSpecError, match=r"\(none configured\)"):
        _resolve(str(t["root"] / "bp"), t, roots=[])
    # a sibling whose name merely starts like the root is not inside it
    sibling = t["tmp"] / "root-other"
    sibling.mkdir()
    with pytest.raises(BuildpackSpecError, match="is not under a directory listed"):
        _resolve(str(sibling), t)


def test_resolve_refuses_a_symlink_in_the_roots_that_leads_outside(tmp_path: Path) -> None:
    t = _tree(tmp_path)
    link = t["root"] / "sneaky"
    link.symlink_to(t["outside"] / "bp")
    assert link.is_dir()
    with pytest.raises(BuildpackSpecError, match="is not under a directory listed"):
        _resolve(str(link), t)
    with pytest.raises(BuildpackSpecError, match="is not under a directory listed"):
        _resolve(f"file://{link}", t)


def test_resolve_refuses_the_data_dir_its_parents_and_its_children(tmp_path: Path) -> None:
    t = _tree(tmp_path)
    roots = [t["tmp"]]  # the data dir is inside a root: still refused
    for path in (t["data"], t["data"] / "buildpacks" / "x", t["tmp"]):
        with pytest.raises(BuildpackSpecError) as info:
            _resolve(str(path), t, roots=roots)
        assert str(info.value) == f"The buildpack {path} overlaps the controller's data dir"
    # a symlink to the data dir is no way around it
    (t["root"] / "to-data").symlink_to(t["data"] / "buildpacks")
    with pytest.raises(BuildpackSpecError, match="overlaps the controller's data dir"):
        _resolve(str(t["root"] / "to-data"), t, roots=roots)
    assert _resolve(str(t["root"] / "bp"), t, roots=roots) == t["root"] / "bp"


def test_resolve_refuses_file_urls_of_other_hosts(tmp_path: Path) -> None:
    t = _tree(tmp_path)
    spec = f"file://otherhost{t['root']}/bp"
    with pytest.raises(BuildpackSpecError) as info:
        _resolve(spec, t)
    assert str(info.value) == f"{spec}: file:// URLs must name a path on this host"


def test_resolve_refuses_what_is_not_a_directory(tmp_path: Path) -> None:
    t = _tree(tmp_path)
    (t["root"] / "file").write_text("not a buildpack")
    for path in (t["root"] / "file", t["root"] / "missing"):
        with pytest.raises(BuildpackSpecError) as info:
            _resolve(str(path), t)
        assert str(info.value) == f"The buildpack {path} is not a directory on this host"


# process_types ------------------------------------------------------------------------------


def test_process_types_the_procfile_overrides_per_type_and_keeps_other_defaults() -> None:
    defaults = {"web": "default-web", "worker": "default-worker"}
    procfile = {"web": "gunicorn app:app", "clock": "python clock.py"}
    assert process_types(defaults, procfile) == {
        "web": "gunicorn app:app",
        "worker": "default-worker",
        "clock": "python clock.py",
    }
    assert defaults == {"web": "default-web", "worker": "default-worker"}  # not modified
    assert process_types({}, {}) == {}
    assert process_types({"web": "w"}, {}) == {"web": "w"}


# repos.parse_command ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("git-receive-pack '/shop.git'", ("git-receive-pack", "shop")),
        ("git receive-pack 'shop.git'", ("git-receive-pack", "shop")),
        ("git-upload-pack shop", ("git-upload-pack", "shop")),
        ("git upload-pack '/shop'", ("git-upload-pack", "shop")),
        ("git-receive-pack '~/shop.git'", ("git-receive-pack", "shop")),
        ("git-receive-pack '/shop.git/'", ("git-receive-pack", "shop")),
        ("git-receive-pack 'shop/'", ("git-receive-pack", "shop")),
        ('git-upload-pack "shop.git"', ("git-upload-pack", "shop")),
        ("  git-receive-pack 'my-app-2.git'  ", ("git-receive-pack", "my-app-2")),
    ],
)
def test_parse_command_accepts_the_git_services(command: str, expected: tuple[str, str]) -> None:
    assert parse_command(command) == expected


@pytest.mark.parametrize(
    "command",
    [
        "",
        "ls -la",
        "git-upload-archive 'shop.git'",
        "git log",
        "git-receive-pack",
        "git-receive-pack ",
        "git-receive-pack 'a/b.git'",
        "git-receive-pack '../shop.git'",
        "git-receive-pack shop other",
        "git-receive-pack 'shop' 'other'",
        "git-receive-pack 'x'; rm -rf /",
        "git-receive-pack 'x' && id",
        "git-receive-pack 'x' | sh",
        "git-receive-pack 'shop.git'\nrm -rf /",
        "git-receive-pack 'shop.git",
        'git-receive-pack "shop.git',
        "git-receive-pack ''",
        "git-receive-pack '/'",
        "git-receive-pack '.git'",
    ],
)
def test_parse_command_refuses_everything_else(command: str) -> None:
    assert parse_command(command) is None


@pytest.mark.parametrize(
    "command",
    [
        "git-receive-pack '..'",
        "git-receive-pack '~/..'",
        "git-upload-pack '.'",
        "git-receive-pack '~/'",
    ],
)
def test_parse_command_refuses_names_that_are_no_repository(command: str) -> None:
    assert parse_command(command) is None


# parse_size and the settings that use it ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1073741824, 1073741824),
        ("1073741824", 1073741824),
        ("512", 512),
        ("2k", 2 * 1024),
        ("512M", 512 * 1024**2),
        ("512m", 512 * 1024**2),
        ("1G", 1024**3),
        ("1GB", 1024**3),
        ("1GiB", 1024**3),
        ("1gib", 1024**3),
        (" 3 T ", 3 * 1024**4),
        ("10B", 10),
    ],
)
def test_parse_size(value: object, expected: int) -> None:
    assert parse_size(value) == expected


@pytest.mark.parametrize("value", ["", "M", "1.5G", "-1", "1X", "1 G B", "G1", "1e6", 2.5])
def test_parse_size_refuses_what_is_not_a_size(value: object) -> None:
    with pytest.raises(ValueError, match="is not a size such as 512M or 1G"):
        parse_size(value)


def test_settings_take_sizes_in_bytes_or_with_units(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, max_source_size="2M", build_memory="1G")
    assert settings.max_source_size == 2 * 1024**2
    assert settings.build_memory == 1024**3
    assert Settings(data_dir=tmp_path, build_memory=4096).build_memory == 4096


def test_settings_refuse_a_bad_size(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="is not a size such as 512M or 1G"):
        Settings(data_dir=tmp_path, build_memory="lots")
    with pytest.raises(ValidationError, match="max_source_size"):
        Settings(data_dir=tmp_path, max_source_size="0")
    with pytest.raises(ValidationError, match="build_memory"):
        Settings(data_dir=tmp_path, build_memory="1.5G")


def test_settings_read_sizes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKYARD_BUILD_MEMORY", "256M")
    monkeypatch.setenv("DOCKYARD_MAX_SOURCE_SIZE", "3k")
    settings = Settings(data_dir=tmp_path)
    assert (settings.build_memory, settings.max_source_size) == (256 * 1024**2, 3 * 1024)
