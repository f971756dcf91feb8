"""middleground: the code behind the executable book.

One concept per module:

- :mod:`~middleground.profiles`: chapter parameters and their quick/full/gpu sizes.
- :mod:`~middleground.runner`: execute chapters through papermill.
- :mod:`~middleground.data`: external corpora, verified by SHA-256, cached, mirrored.
- :mod:`~middleground.text`: character tokenisation and the nanoGPT train/val split.
- :mod:`~middleground.sources`: synthetic sources with exactly known entropy.
- :mod:`~middleground.device`: CUDA, MPS or CPU, and the precision to use there.
- :mod:`~middleground.model`: a small GPT in torch.
- :mod:`~middleground.train`: the training loop.
- :mod:`~middleground.charts`: the book's chart theme and offline renderer.
- :mod:`~middleground.provenance`: the box that closes every chapter.
"""

__version__ = "0.1.0"
