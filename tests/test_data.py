"""The data layer: cache, mirrors, download, checksums, and the advice when nothing works.

Every test but one is hermetic: it builds its own mirror folders, serves its own files from a
local HTTP server on 127.0.0.1 (through ``MIDDLEGROUND_DATA_URL_BASE``) and uses a private cache,
so the suite passes with or without ``../shared/data`` and with or without network. The exception,
:func:`test_corpus_is_available_from_mirror_or_download`, fetches the real corpus the way the
chapters do (mirror if configured, else download); without either it fails with the data layer's
message saying how to get the corpus.
"""

import functools
import hashlib
import http.server
import os
import socket
import threading

import pytest

from middleground.base import data
from middleground.base.data import DataError

SHAKESPEARE = data.manifest()["tinyshakespeare"]

TOY_BYTES = b"First Citizen:\nBefore we proceed any further, hear me speak.\n"
TOY = data.Corpus(
    name="toy",
    file="toy/x.txt",
    url="https://example.invalid/toy/x.txt",
    sha256=hashlib.sha256(TOY_BYTES).hexdigest(),
    bytes=len(TOY_BYTES),
    licence="test",
)


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shakespeare(tmp_path_factory):
    """The real corpus's bytes, fetched once as the chapters would (mirror, else download), into a
    private cache; the :class:`DataError` instead when it cannot be had."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MIDDLEGROUND_DATA_CACHE", str(tmp_path_factory.mktemp("real-cache")))
        try:
            return data.path("tinyshakespeare").read_bytes()
        except DataError as e:
            return e


@pytest.fixture
def no_sources(monkeypatch):
    """No mirror, no URL override, downloads off: each test then turns on what it needs."""
    monkeypatch.setenv("MIDDLEGROUND_DATA_MIRROR", "")
    monkeypatch.delenv("MIDDLEGROUND_DATA_URL_BASE", raising=False)
    monkeypatch.setenv("MIDDLEGROUND_OFFLINE", "1")


@pytest.fixture
def toy(monkeypatch, no_sources):
    """A one-entry manifest with a small corpus whose bytes the test holds."""
    monkeypatch.setattr(data, "manifest", lambda path=None: {"toy": TOY})
    return TOY


def _mirror(folder, corpus, payload: bytes):
    (folder / corpus.file).parent.mkdir(parents=True, exist_ok=True)
    (folder / corpus.file).write_bytes(payload)
    return folder


def _set_mirrors(monkeypatch, *folders):
    monkeypatch.setenv("MIDDLEGROUND_DATA_MIRROR", os.pathsep.join(str(f) for f in folders))


class _Server:
    """A real HTTP server on 127.0.0.1 serving ``root``; ``requests`` lists the paths asked for."""

    def __init__(self, root):
        self.root = root
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
        )
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def serve(self, corpus, payload: bytes):
        _mirror(self.root, corpus, payload)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A local server, with downloads on and ``MIDDLEGROUND_DATA_URL_BASE`` pointing at it."""
    root = tmp_path / "served"
    root.mkdir()
    srv = _Server(root)
    no_proxy = ",".join(p for p in (os.environ.get("no_proxy") or os.environ.get("NO_PROXY"),
                                    "127.0.0.1", "localhost") if p)
    monkeypatch.setenv("no_proxy", no_proxy)  # a proxy configured for the real network is skipped
    monkeypatch.setenv("NO_PROXY", no_proxy)
    monkeypatch.setenv("MIDDLEGROUND_DATA_URL_BASE", srv.base)
    monkeypatch.delenv("MIDDLEGROUND_OFFLINE", raising=False)
    yield srv
    srv.close()


@pytest.fixture
def closed_port_base():
    """``http://127.0.0.1:<port>`` with nothing listening there: a download that cannot connect."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _leftovers(cache):
    return [p for p in cache.rglob("*") if p.is_file()] if cache.exists() else []


# --- the manifest and the real corpus -------------------------------------------------------------


def test_manifest_entries_are_complete():
    for corpus in data.manifest().values():
        assert corpus.url.startswith("https://")
        assert len(corpus.sha256) == 64 and int(corpus.sha256, 16) >= 0
        assert corpus.bytes > 0 and corpus.licence


def test_corpus_is_available_from_mirror_or_download(shakespeare):
    if isinstance(shakespeare, DataError):
        pytest.fail(str(shakespeare), pytrace=False)
    assert len(shakespeare) == SHAKESPEARE.bytes
    assert hashlib.sha256(shakespeare).hexdigest() == SHAKESPEARE.sha256


def test_unknown_corpus():
    with pytest.raises(DataError, match="unknown corpus 'nope'; the manifest lists: tinyshakespeare"):
        data.path("nope")


def test_corpus_is_not_committed():
    tracked = os.popen(f"git -C {data.PROJECT_ROOT} ls-files").read().split()
    assert not any(name.endswith("input.txt") for name in tracked)


# --- cache and mirrors ----------------------------------------------------------------------------


def test_mirror_copy_is_verified_and_cached(isolated_cache, toy, tmp_path, monkeypatch):
    mirror = _mirror(tmp_path / "mirror", toy, TOY_BYTES)
    _set_mirrors(monkeypatch, mirror)
    path = data.path("toy")
    assert path == isolated_cache / toy.file
    assert path.read_bytes() == TOY_BYTES and path.stat().st_size == toy.bytes
    assert not list(path.parent.glob("*.partial")), "no temporary files may remain"
    (mirror / toy.file).unlink()
    assert data.path("toy") == path, "the second load is served from the cache"


def test_corrupt_cache_entry_is_replaced_from_mirror(isolated_cache, toy, tmp_path, monkeypatch):
    _set_mirrors(monkeypatch, _mirror(tmp_path / "mirror", toy, TOY_BYTES))
    target = isolated_cache / toy.file
    target.parent.mkdir(parents=True)
    target.write_text("First Citizen:\ntruncated")
    assert data.path("toy").read_bytes() == TOY_BYTES


def test_corrupt_cache_with_no_source_errors_and_removes_it(isolated_cache, toy):
    target = isolated_cache / toy.file
    target.parent.mkdir(parents=True)
    target.write_text("not shakespeare")
    with pytest.raises(DataError, match="had SHA-256 .* and was removed"):
        data.path("toy")
    assert not target.exists()


def test_cache_entry_that_is_a_folder_is_a_clear_error(isolated_cache, toy, tmp_path, monkeypatch):
    _set_mirrors(monkeypatch, _mirror(tmp_path / "mirror", toy, TOY_BYTES))
    (isolated_cache / toy.file).mkdir(parents=True)
    with pytest.raises(DataError, match=r"is a folder, not a file: remove it .*MIDDLEGROUND_DATA_CACHE"):
        data.path("toy")


def test_corrupt_mirror_is_rejected_and_nothing_is_cached(isolated_cache, toy, tmp_path, monkeypatch):
    _set_mirrors(monkeypatch, _mirror(tmp_path / "mirror", toy, b"corrupted mirror copy"))
    with pytest.raises(DataError, match=f"fails its checksum.*expected {toy.sha256}.*discarded"):
        data.path("toy")
    assert not _leftovers(isolated_cache), "a bad file must never stay in the cache"


def test_mirrors_are_tried_in_order_bad_then_good(isolated_cache, toy, tmp_path, monkeypatch):
    bad = _mirror(tmp_path / "bad", toy, b"corrupted mirror copy")
    empty = tmp_path / "empty"
    empty.mkdir()
    good = _mirror(tmp_path / "good", toy, TOY_BYTES)
    _set_mirrors(monkeypatch, bad, empty, good)
    path = data.path("toy")
    assert path.read_bytes() == TOY_BYTES
    assert _leftovers(isolated_cache) == [path], "only the verified file is cached"


# --- download, from a local HTTP server -----------------------------------------------------------


def test_url_base_overrides_the_manifest_url(monkeypatch):
    monkeypatch.delenv("MIDDLEGROUND_DATA_URL_BASE", raising=False)
    assert data.download_url(SHAKESPEARE) == SHAKESPEARE.url
    monkeypatch.setenv("MIDDLEGROUND_DATA_URL_BASE", "http://127.0.0.1:8000/corpora/")
    assert data.download_url(SHAKESPEARE) == "http://127.0.0.1:8000/corpora/" + SHAKESPEARE.file


def test_download_installs_a_good_file(isolated_cache, toy, server):
    server.serve(toy, TOY_BYTES)
    path = data.path("toy")
    assert path == isolated_cache / toy.file and path.read_bytes() == TOY_BYTES
    assert server.requests == ["/" + toy.file]


def test_bad_mirror_falls_back_to_download(isolated_cache, toy, server, tmp_path, monkeypatch):
    _set_mirrors(monkeypatch, _mirror(tmp_path / "bad", toy, b"corrupted mirror copy"))
    server.serve(toy, TOY_BYTES)
    assert data.path("toy").read_bytes() == TOY_BYTES
    assert server.requests == ["/" + toy.file]


def test_every_source_failing_gives_one_error_listing_them(isolated_cache, toy, server, tmp_path,
                                                          monkeypatch):
    bad = _mirror(tmp_path / "bad", toy, b"corrupted mirror copy")
    empty = tmp_path / "empty"
    empty.mkdir()
    _set_mirrors(monkeypatch, bad, empty)
    server.serve(toy, b"a different file")
    with pytest.raises(DataError) as err:
        data.path("toy")
    message = str(err.value)
    lines = message.splitlines()
    assert lines[0] == "corpus 'toy' is not available. Sources tried, in order:"
    assert lines[1] == f"  - cache {isolated_cache / toy.file}: not there"
    assert lines[2].startswith(f"  - mirror {bad / toy.file}: ") and "fails its checksum" in lines[2]
    assert lines[3] == f"  - mirror {empty / toy.file}: not there"
    assert lines[4].startswith(f"  - download {server.base}/{toy.file}: ")
    assert "fails its checksum" in lines[4]
    assert lines[5].startswith("To fix: ") and toy.url in lines[5]
    assert not _leftovers(isolated_cache)


def test_download_from_local_server_is_verified_and_cached(shakespeare, isolated_cache, no_sources,
                                                           server):
    if isinstance(shakespeare, DataError):  # no corpus, no network: fail with how to get it
        pytest.fail(str(shakespeare), pytrace=False)
    server.serve(SHAKESPEARE, shakespeare)
    path = data.path("tinyshakespeare")
    assert path == isolated_cache / SHAKESPEARE.file
    assert data.sha256_of(path) == SHAKESPEARE.sha256 and path.stat().st_size == SHAKESPEARE.bytes
    assert not list(path.parent.glob("*.partial")), "no temporary files may remain"
    assert data.path("tinyshakespeare") == path
    assert server.requests == ["/" + SHAKESPEARE.file], "the second load is served from the cache"


def test_download_with_wrong_bytes_is_rejected_and_nothing_cached(isolated_cache, no_sources, server):
    server.serve(SHAKESPEARE, b"First Citizen:\nnot the corpus\n")
    with pytest.raises(DataError, match=f"fails its checksum.*expected {SHAKESPEARE.sha256}"):
        data.path("tinyshakespeare")
    assert server.requests == ["/" + SHAKESPEARE.file]
    assert not _leftovers(isolated_cache), "a bad file must never stay in the cache"


def test_download_not_found_is_reported(isolated_cache, no_sources, server):
    with pytest.raises(DataError, match=r"download http://127\.0\.0\.1:\d+/tinyshakespeare/input\.txt: "
                                        r"failed \(HTTP Error 404"):
        data.path("tinyshakespeare")


# --- no mirror and no network: the advice, not a stack trace --------------------------------------


def test_unreachable_download_without_mirror_says_how_to_get_it(isolated_cache, no_sources,
                                                                closed_port_base, monkeypatch):
    monkeypatch.delenv("MIDDLEGROUND_OFFLINE")
    monkeypatch.setenv("MIDDLEGROUND_DATA_URL_BASE", closed_port_base)
    with pytest.raises(DataError) as err:
        data.path("tinyshakespeare")
    message = str(err.value)
    assert "corpus 'tinyshakespeare' is not available" in message
    assert "mirror: none configured" in message
    assert f"download {closed_port_base}/{SHAKESPEARE.file}: failed (" in message
    assert "To fix:" in message and "MIDDLEGROUND_DATA_MIRROR" in message
    assert SHAKESPEARE.url in message and SHAKESPEARE.sha256 in message
    assert not _leftovers(isolated_cache)


def test_missing_corpus_offline_says_how_to_get_it(isolated_cache, no_sources):
    with pytest.raises(DataError) as err:
        data.path("tinyshakespeare")
    message = str(err.value)
    assert "not available" in message and "MIDDLEGROUND_OFFLINE=1" in message
    assert SHAKESPEARE.url in message and SHAKESPEARE.sha256 in message
    assert "MIDDLEGROUND_DATA_MIRROR" in message


# --- limits (issue 12): the manifest's size caps every copy -----------------------------------------


def test_a_download_larger_than_the_manifest_says_is_stopped_and_discarded(isolated_cache, toy, server):
    """Before: the manifest's ``bytes`` did not cap a download, so a wrong URL could fill the disk."""
    server.serve(toy, TOY_BYTES * 1000)
    with pytest.raises(DataError, match=rf"larger than the {toy.bytes:,} bytes data/manifest.json gives"
                                        rf".*\({len(TOY_BYTES) * 1000:,} bytes announced\)"):
        data.path("toy")
    assert not _leftovers(isolated_cache)


def test_a_stream_without_a_length_is_cut_at_the_manifest_size(toy, tmp_path):
    import io

    sink = io.BytesIO()
    with pytest.raises(DataError, match="the copy was stopped there and discarded"):
        data._copy_at_most(io.BytesIO(TOY_BYTES + b"x" * 10_000_000), sink, toy, "a server", None)
    assert len(sink.getvalue()) <= toy.bytes  # never more than the manifest's size was kept
    sink = io.BytesIO()
    data._copy_at_most(io.BytesIO(TOY_BYTES), sink, toy, "a server", None)
    assert sink.getvalue() == TOY_BYTES


def test_an_oversized_mirror_file_is_skipped_for_the_next_source(isolated_cache, toy, tmp_path, monkeypatch):
    big = _mirror(tmp_path / "big", toy, TOY_BYTES * 3)
    good = _mirror(tmp_path / "good", toy, TOY_BYTES)
    _set_mirrors(monkeypatch, big, good)
    assert data.path("toy").read_bytes() == TOY_BYTES
