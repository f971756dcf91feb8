"""The data layer: corpora the book cannot generate, fetched once, verified every time.

Every external file is described in ``data/manifest.json`` (URL, SHA-256, size, licence). A corpus
is served from the cache, else copied from a mirror folder, else downloaded, and in every case its
SHA-256 is checked before it is used. A file that fails the check is removed, never cached. Files
are written to a temporary name and renamed into place, so an interrupted fetch leaves nothing
half-written behind.

Settings (environment variables):

- ``MIDDLEGROUND_DATA_CACHE``: the cache folder (default ``data/cache`` in the project).
- ``MIDDLEGROUND_DATA_MIRROR``: a folder laid out like the manifest's ``file`` paths (the tests and
  CI use ``../shared/data``); ``os.pathsep``-separated for several.
- ``MIDDLEGROUND_OFFLINE=1``: never try the network.

What it does not do: tokenise or split. :mod:`middleground.gpt.text` does that.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .paths import PROJECT_ROOT

MANIFEST = PROJECT_ROOT / "data" / "manifest.json"


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
    return Path(os.environ.get("MIDDLEGROUND_DATA_CACHE", PROJECT_ROOT / "data" / "cache"))


def mirrors() -> list[Path]:
    value = os.environ.get("MIDDLEGROUND_DATA_MIRROR", "")
    return [Path(p) for p in value.split(os.pathsep) if p]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _install_verified(corpus: Corpus, fill, target: Path, origin: str) -> Path:
    """Write via ``fill(tmp_path)`` into a temp file next to ``target``, verify, then rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    os.close(fd)
    tmp = Path(tmp)
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


def path(name: str) -> Path:
    """Return the local path of corpus ``name``, fetching and verifying it if needed."""
    corpora = manifest()
    if name not in corpora:
        raise DataError(f"unknown corpus {name!r}; the manifest lists: {', '.join(sorted(corpora))}")
    corpus = corpora[name]
    target = cache_dir() / corpus.file

    if target.exists():
        got = sha256_of(target)
        if got == corpus.sha256:
            return target
        target.unlink()  # a corrupt or truncated cache entry is removed, then fetched afresh
        cached_error = f"the cached copy at {target} had SHA-256 {got} and was removed; "
    else:
        cached_error = ""

    for mirror in mirrors():
        candidate = mirror / corpus.file
        if candidate.is_file():
            return _install_verified(
                corpus, lambda tmp: shutil.copyfile(candidate, tmp), target, f"mirror {candidate}"
            )

    if os.environ.get("MIDDLEGROUND_OFFLINE") == "1":
        download_error = "downloads are disabled (MIDDLEGROUND_OFFLINE=1)"
    else:
        try:
            def fetch(tmp: Path) -> None:
                with urllib.request.urlopen(corpus.url, timeout=60) as r, open(tmp, "wb") as f:
                    shutil.copyfileobj(r, f)

            return _install_verified(corpus, fetch, target, corpus.url)
        except (urllib.error.URLError, OSError) as e:
            download_error = f"downloading {corpus.url} failed ({e})"

    searched = ", ".join(str(m / corpus.file) for m in mirrors()) or "none configured"
    raise DataError(
        f"corpus {name!r} is not available: {cached_error}{download_error}; mirrors searched: "
        f"{searched}. To fix: on a machine with network, run "
        f"`python -c \"import middleground.base.data as d; d.path('{name}')\"`; or download "
        f"{corpus.url} (SHA-256 {corpus.sha256}) to {target}; or set MIDDLEGROUND_DATA_MIRROR "
        f"to a folder holding {corpus.file}."
    )


def read_text(name: str) -> str:
    return path(name).read_text(encoding="utf-8")
