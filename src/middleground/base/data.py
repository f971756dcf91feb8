"""The data layer: corpora the book cannot generate, fetched once, verified every time.

Every external file is described in ``data/manifest.json`` (URL, SHA-256, size, licence). A corpus
is served from the cache, else copied from a mirror folder (each in turn), else downloaded, and in
every case its SHA-256 is checked before it is used. A file that fails the check is removed, never
cached, and the next source is tried; when none works, one :class:`DataError` lists every source
tried, why each failed, and how to get the corpus. Files are written to a temporary name and
renamed into place, so an interrupted fetch leaves nothing half-written behind.

Settings (environment variables, read by :mod:`middleground.base.settings`):

- ``MIDDLEGROUND_DATA_CACHE``: the cache folder (default ``data/cache`` in the project).
- ``MIDDLEGROUND_DATA_MIRROR``: a folder laid out like the manifest's ``file`` paths (the Makefile
  and the tests use ``../shared/data`` when it exists); ``os.pathsep``-separated for several, tried
  in order. Unset or empty: no mirror.
- ``MIDDLEGROUND_DATA_URL_BASE``: download ``<base>/<file>`` (``file`` as in the manifest) instead
  of the manifest's URL, e.g. from a local server or an internal copy; the checksum is the same.
- ``MIDDLEGROUND_OFFLINE=1``: never try the network.

What it does not do: tokenise or split. :mod:`middleground.gpt.text` does that.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .files import remove_stale_partials, temporary_file
from .paths import PROJECT_ROOT
from . import settings

MANIFEST = PROJECT_ROOT / "data" / "manifest.json"
DOWNLOAD_TIMEOUT_S = 60


class DataError(RuntimeError):
    """A corpus that cannot be provided: unknown, missing offline, or failing its checksum."""


@dataclass(frozen=True)
class Corpus:
    name: str
    file: str
    url: str
    sha256: str
    bytes: int
    licence: str
    description: str = ""


def manifest(path: Path = MANIFEST) -> dict[str, Corpus]:
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    return {name: Corpus(name=name, **entry) for name, entry in raw.items()}


def cache_dir() -> Path:
    return settings.data_cache()


def mirrors() -> list[Path]:
    value = settings.data_mirror()
    return [Path(p) for p in value.split(os.pathsep) if p]


def download_url(corpus: Corpus) -> str:
    """The URL ``corpus`` is downloaded from: its manifest URL, or ``$MIDDLEGROUND_DATA_URL_BASE/file``."""
    base = settings.data_url_base()
    if base:
        return base.rstrip("/") + "/" + corpus.file
    return corpus.url


def offline() -> bool:
    return settings.offline()


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _install_verified(corpus: Corpus, fill, target: Path, origin: str) -> Path:
    """Write via ``fill(tmp_path)`` into a temp file next to ``target``, verify, then rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(target.parent)  # left by a fetch that was killed
    with temporary_file(target) as tmp:
        try:
            fill(tmp)
            got = sha256_of(tmp)
            if got != corpus.sha256:
                raise DataError(
                    f"corpus {corpus.name!r} from {origin} fails its checksum: SHA-256 {got}, "
                    f"expected {corpus.sha256} (data/manifest.json). The file was discarded."
                )
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    return target


def _copy_at_most(source, sink, corpus: Corpus, origin: str, declared: str | None) -> None:
    """Copy ``source`` to ``sink``, refusing (:class:`DataError`) anything longer than the
    manifest's ``bytes``: a wrong URL or a hostile server cannot fill the disk. ``declared``: the
    size the source announces (Content-Length), checked before a byte is read."""
    too_big = (f"corpus {corpus.name!r} from {origin} is larger than the {corpus.bytes:,} bytes "
               f"data/manifest.json gives for it")
    if declared is not None and declared.isdigit() and int(declared) > corpus.bytes:
        raise DataError(f"{too_big} ({int(declared):,} bytes announced); nothing was kept.")
    copied = 0
    while chunk := source.read(min(1 << 20, corpus.bytes + 1 - copied)):
        copied += len(chunk)
        if copied > corpus.bytes:
            raise DataError(f"{too_big}; the copy was stopped there and discarded.")
        sink.write(chunk)


def _check_cache(corpus: Corpus, target: Path) -> tuple[bool, str]:
    """``(True, "")`` when the cache entry is good; else ``(False, why)``, a bad entry removed."""
    if not target.exists() and not target.is_symlink():
        return False, "not there"
    if target.is_dir():
        raise DataError(
            f"the cache entry for corpus {corpus.name!r} at {target} is a folder, not a file: "
            f"remove it (`rm -r {target}`) or set MIDDLEGROUND_DATA_CACHE to another folder."
        )
    try:
        got = sha256_of(target)
    except OSError as e:
        if not target.exists():  # a dangling link: nothing to read, nothing worth keeping
            target.unlink(missing_ok=True)
            return False, "a dangling link, removed"
        raise DataError(
            f"the cache entry for corpus {corpus.name!r} at {target} cannot be read ({e}): "
            f"fix its permissions or remove it."
        ) from e
    if got == corpus.sha256:
        return True, ""
    target.unlink()  # a corrupt or truncated cache entry is removed, then fetched afresh
    return False, f"the cached copy had SHA-256 {got} and was removed"


def path(name: str) -> Path:
    """Return the local path of corpus ``name``, fetching and verifying it if needed."""
    corpora = manifest()
    if name not in corpora:
        raise DataError(f"unknown corpus {name!r}; the manifest lists: {', '.join(sorted(corpora))}")
    corpus = corpora[name]
    target = cache_dir() / corpus.file

    ok, why = _check_cache(corpus, target)
    if ok:
        return target
    tried = [f"cache {target}: {why}"]

    if not mirrors():
        tried.append("mirror: none configured (MIDDLEGROUND_DATA_MIRROR is unset or empty)")
    for mirror in mirrors():
        candidate = mirror / corpus.file
        if not candidate.is_file():
            tried.append(f"mirror {candidate}: " + ("not a file" if candidate.exists() else "not there"))
            continue

        def copy(tmp: Path, src=candidate) -> None:
            with open(src, "rb") as r, open(tmp, "wb") as f:
                _copy_at_most(r, f, corpus, str(src), str(src.stat().st_size))

        try:
            return _install_verified(corpus, copy, target, f"mirror {candidate}")
        except DataError as e:
            tried.append(f"mirror {candidate}: {e}")
        except OSError as e:
            tried.append(f"mirror {candidate}: copying failed ({e})")

    url = download_url(corpus)
    if offline():
        tried.append(f"download {url}: downloads are disabled (MIDDLEGROUND_OFFLINE=1)")
    else:
        def fetch(tmp: Path) -> None:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as r, open(tmp, "wb") as f:
                _copy_at_most(r, f, corpus, url, r.headers.get("Content-Length"))

        try:
            return _install_verified(corpus, fetch, target, url)
        except DataError as e:
            tried.append(f"download {url}: {e}")
        except (OSError, http.client.HTTPException, ValueError) as e:  # URLError is an OSError
            tried.append(f"download {url}: failed ({e})")

    raise DataError(
        f"corpus {name!r} is not available. Sources tried, in order:\n"
        + "".join(f"  - {line}\n" for line in tried)
        + f"To fix: on a machine with network, run "
        f"`python -c \"import middleground.base.data as d; d.path('{name}')\"`; or download "
        f"{corpus.url} (SHA-256 {corpus.sha256}) to {target}; or set MIDDLEGROUND_DATA_MIRROR "
        f"to a folder holding {corpus.file}."
    )


def read_text(name: str) -> str:
    return path(name).read_text(encoding="utf-8")
