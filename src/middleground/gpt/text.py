"""Character-level text: a vocabulary, encoding, nanoGPT's train/validation split, Tiny Shakespeare.

The split follows nanoGPT's ``data/shakespeare_char/prepare.py``: the first 90 % of the file by
position trains, the last 10 % validates, so reported validation losses are comparable to its
published figures. What it does not do: sub-word tokenisation (the book stays at characters, where
the entropy of the sources is exactly defined per symbol).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..base import data


@dataclass(frozen=True)
class CharVocab:
    chars: str  # sorted, unique

    @classmethod
    def from_text(cls, text: str) -> "CharVocab":
        if not text:
            raise ValueError("cannot build a vocabulary from empty text")
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.chars)}
        try:
            return np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as e:
            raise ValueError(f"character {e.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def split(tokens: np.ndarray, train_fraction: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """First ``train_fraction`` of the sequence by position for training, the rest for validation."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1); got {train_fraction!r}")
    cut = int(len(tokens) * train_fraction)
    return tokens[:cut], tokens[cut:]


def shakespeare_char():
    """Tiny Shakespeare at character level, split 90/10 by position as nanoGPT does."""
    corpus = data.read_text("tinyshakespeare")
    vocab = CharVocab.from_text(corpus)
    train, val = split(vocab.encode(corpus))
    return train, val, vocab
