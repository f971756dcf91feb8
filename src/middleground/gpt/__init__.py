"""The torch GPT and how it is trained (knows no source and no chapter).

- :mod:`.model`: a small GPT in the shape of nanoGPT's ``model.py``.
- :mod:`.core`: the training core every loop shares: schedule, batches, AdamW split, step, evaluation.
- :mod:`.train`: the single-model trainer with checkpoints and a nanoGPT-compatible command line.
- :mod:`.ensemble`: many GPTs of one shape trained as one batched computation.
- :mod:`.decode`: greedy continuation and the loss of a given continuation.
- :mod:`.device`: CUDA, MPS or CPU, and the precision to use there.
- :mod:`.flops`: FLOPs per token and a measured matmul peak (for MFU).
- :mod:`.text`: characters as tokens, the nanoGPT split, Tiny Shakespeare.
"""
