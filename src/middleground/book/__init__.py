"""The book's tooling: the top layer, which nothing below imports (except :mod:`.profiles`).

- :mod:`.profiles`: every chapter's parameters and their quick/full/gpu sizes.
- :mod:`.runner`: execute chapters through papermill, then render the book from what ran.
- :mod:`.provenance`: the box that closes every chapter.
- :mod:`.charts`: the chart theme and the offline renderer.
- :mod:`.sphinx_vega`: the Sphinx extension that serves one local vega bundle.
- :mod:`.browser_check`: the built pages checked in headless Chromium with no network.
"""
