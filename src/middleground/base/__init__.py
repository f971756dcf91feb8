"""The bottom layer: what every other layer may use, and which uses none of them.

- :mod:`.paths`: where the project lives.
- :mod:`.files`: atomic writes (a result file is whole or absent).
- :mod:`.bits`: entropy in bits and the nats-to-bits factor.
- :mod:`.data`: external corpora, pinned by SHA-256, cached and mirrored.
"""
