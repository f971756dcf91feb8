"""What the reproduction appendix reads from the book itself (it draws no chart).

The appendix's tables are built by :mod:`middleground.experiments.reproduce` from plain inputs; the
two inputs that only the book layer can read are the chapters in reading order (from ``_toc.yml``,
:func:`chapters`) and this build's claims (:func:`middleground.book.claims.collected`, called in
the chapter).
"""

from __future__ import annotations

from ...base.profiles import CHAPTERS
from ..runner import chapters_in_toc, is_notebook


def chapters() -> list[str]:
    """The executed chapters of the table of contents that declare parameters, in reading order,
    the appendix itself left out."""
    return [p.stem for p in chapters_in_toc() if is_notebook(p) and p.stem in CHAPTERS and p.stem != "reproduce"]
