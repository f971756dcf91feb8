import hashlib
import os

import pytest

from middleground.base import data
from middleground.base.data import DataError

SHAKESPEARE = data.manifest()["tinyshakespeare"]


def test_manifest_entries_are_complete():
    for corpus in data.manifest().values():
        assert corpus.url.startswith("https://")
        assert len(corpus.sha256) == 64 and int(corpus.sha256, 16) >= 0
        assert corpus.bytes > 0 and corpus.licence


def test_mirror_copy_is_verified_and_cached(isolated_cache):
    if not data.mirrors():
        pytest.fail("no data mirror configured: set MIDDLEGROUND_DATA_MIRROR (CI uses ../shared/data)")
    path = data.path("tinyshakespeare")
    assert path == isolated_cache / SHAKESPEARE.file
    assert path.stat().st_size == SHAKESPEARE.bytes
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHAKESPEARE.sha256
    assert not list(path.parent.glob("*.partial")), "no temporary files may remain"


def test_corrupt_cache_entry_is_replaced_from_mirror(isolated_cache):
    target = isolated_cache / SHAKESPEARE.file
    target.parent.mkdir(parents=True)
    target.write_text("First Citizen:\ntruncated")
    assert data.sha256_of(data.path("tinyshakespeare")) == SHAKESPEARE.sha256


def test_corrupt_cache_with_no_source_errors_and_removes_it(isolated_cache, monkeypatch):
    monkeypatch.setenv("MIDDLEGROUND_DATA_MIRROR", "")
    monkeypatch.setenv("MIDDLEGROUND_OFFLINE", "1")
    target = isolated_cache / SHAKESPEARE.file
    target.parent.mkdir(parents=True)
    target.write_text("not shakespeare")
    with pytest.raises(DataError, match="had SHA-256 .* and was removed"):
        data.path("tinyshakespeare")
    assert not target.exists()


def test_corrupt_mirror_is_rejected_and_nothing_is_cached(isolated_cache, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "tinyshakespeare").mkdir(parents=True)
    (mirror / SHAKESPEARE.file).write_text("corrupted mirror copy")
    monkeypatch.setenv("MIDDLEGROUND_DATA_MIRROR", str(mirror))
    with pytest.raises(DataError, match=f"fails its checksum.*expected {SHAKESPEARE.sha256}.*discarded"):
        data.path("tinyshakespeare")
    cached = isolated_cache / "tinyshakespeare"
    assert not cached.exists() or not any(cached.iterdir()), "a bad file must never stay in the cache"


def test_missing_corpus_offline_says_how_to_get_it(isolated_cache, monkeypatch):
    monkeypatch.setenv("MIDDLEGROUND_DATA_MIRROR", "")
    monkeypatch.setenv("MIDDLEGROUND_OFFLINE", "1")
    with pytest.raises(DataError) as err:
        data.path("tinyshakespeare")
    message = str(err.value)
    assert "not available" in message and "MIDDLEGROUND_OFFLINE=1" in message
    assert SHAKESPEARE.url in message and SHAKESPEARE.sha256 in message
    assert "MIDDLEGROUND_DATA_MIRROR" in message


def _read_manifest(path):
    import json

    raw = json.loads(path.read_text())
    return {n: data.Corpus(name=n, **e) for n, e in raw.items()}


def _serve_via_file_url(tmp_path, monkeypatch, payload: bytes, sha256: str):
    """Point a one-entry manifest at a local file:// URL: the download branch, with no network."""
    served = tmp_path / "served.txt"
    served.write_bytes(payload)
    manifest = tmp_path / "manifest.json"
    manifest.write_text('{"toy": {"file": "toy/x.txt", "url": "%s", "sha256": "%s", "bytes": %d, '
                        '"licence": "test"}}' % (served.as_uri(), sha256, len(payload)))
    monkeypatch.setattr(data, "manifest", lambda path=None: _read_manifest(manifest))
    monkeypatch.setenv("MIDDLEGROUND_DATA_MIRROR", "")
    monkeypatch.delenv("MIDDLEGROUND_OFFLINE", raising=False)


def test_download_with_wrong_checksum_leaves_nothing(isolated_cache, tmp_path, monkeypatch):
    _serve_via_file_url(tmp_path, monkeypatch, b"a different file", SHAKESPEARE.sha256)
    with pytest.raises(DataError, match="fails its checksum"):
        data.path("toy")
    assert not list((isolated_cache / "toy").glob("*"))


def test_download_installs_a_good_file(isolated_cache, tmp_path, monkeypatch):
    payload = b"hello corpus\n"
    _serve_via_file_url(tmp_path, monkeypatch, payload, hashlib.sha256(payload).hexdigest())
    assert data.path("toy").read_bytes() == payload
    assert data.path("toy") == isolated_cache / "toy" / "x.txt"


def test_unknown_corpus():
    with pytest.raises(DataError, match="unknown corpus 'nope'; the manifest lists: tinyshakespeare"):
        data.path("nope")


def test_corpus_is_not_committed():
    tracked = os.popen(f"git -C {data.PROJECT_ROOT} ls-files").read().split()
    assert not any(name.endswith("input.txt") for name in tracked)
