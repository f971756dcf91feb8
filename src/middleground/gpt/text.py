"""Character-level text: a vocabulary, encoding, nanoGPT's train/validation split, Tiny Shakespeare.

The split follows nanoGPT's ``data/shakespeare_char/prepare.py``: the first 90 % of the file by
position trains, the last 10 % validates, so reported validation losses are comparable to its
published figures. What it does not do: sub-word tokenisation (the book stays at characters, where
the entropy of the sources is exactly defined per symbol).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..base import checks, data


@dataclass(frozen=True)
class CharVocab:
    chars: str  # sorted, unique

    def __post_init__(self):
        if not isinstance(self.chars, str) or not self.chars:
            raise ValueError(f"chars must be a non-empty str; got {self.chars!r:.80}")
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("chars must not repeat a character (each character is one id)")

    @classmethod
    def from_text(cls, text: str) -> "CharVocab":
        if not text:
            raise ValueError("cannot build a vocabulary from empty text")
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        if not isinstance(text, str):
            raise ValueError(f"text must be a str; got {type(text).__name__}")
        index = {c: i for i, c in enumerate(self.chars)}
        try:
            return np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as e:
            raise ValueError(f"character {e.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids) -> str:
        """The text of ``ids``: a 1-d sequence of integer ids in ``[0, len(self))`` (a list, numpy
        array or tensor on any device); a negative id is an error here, never an index from the end."""
        if hasattr(ids, "detach") and hasattr(ids, "cpu"):  # a torch tensor, on a GPU perhaps
            ids = ids.detach().cpu().numpy()
        ids = checks.symbols("ids", ids, len(self.chars))
        return "".join(self.chars[i] for i in ids.tolist())


def split(tokens: np.ndarray, train_fraction: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """First ``train_fraction`` of the sequence by position for training, the rest for validation."""
    checks.real("train_fraction", train_fraction, 0.0, 1.0, low_open=True, high_open=True)
    cut = int(len(tokens) * train_fraction)
    return tokens[:cut], tokens[cut:]


# Distinct characters of Tiny Shakespeare (nanoGPT's vocabulary of 65), for sizing a model
# without reading the corpus; tests check it against the file.
SHAKESPEARE_VOCAB_SIZE = 65
SHAKESPEARE_VAL_CHARS = 111_540  # the last 10 % of its 1,115,394 characters


def shakespeare_char():
    """Tiny Shakespeare at character level, split 90/10 by position as nanoGPT does."""
    corpus = data.read_text("tinyshakespeare")
    vocab = CharVocab.from_text(corpus)
    train, val = split(vocab.encode(corpus))
    return train, val, vocab
