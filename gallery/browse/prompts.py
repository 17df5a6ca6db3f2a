"""Prompts as vectors: the only code that imports wordllama.

WordLlama's static token embeddings (the `l2_supercat` model, 256 dimensions) ship inside its
wheel, so nothing is downloaded: the files are opened from the installed package directly
(its own loader looks in the wrong folder for the tokenizer and would then try the network).
An embedding is the average of its tokens' vectors, so a million prompts take minutes on one
core and a query a fraction of a millisecond; closeness is the cosine of unit vectors.
"""

import threading
from pathlib import Path

import numpy as np

DIMS = 256
CODE_BYTES = DIMS // 8
_model = None
_lock = threading.Lock()


def _load():
    global _model
    with _lock:
        if _model is None:
            import wordllama
            from safetensors import safe_open
            from tokenizers import Tokenizer
            from wordllama.inference import WordLlamaInference

            root = Path(wordllama.__file__).parent
            tokenizer = Tokenizer.from_file(
                str(root / "tokenizers/l2_supercat_tokenizer_config.json")
            )
            weights = root / f"weights/l2_supercat_{DIMS}.safetensors"
            with safe_open(str(weights), framework="np") as f:
                embedding = f.get_tensor("embedding.weight")
            _model = WordLlamaInference(embedding, tokenizer)
    return _model


def embed(texts: list[str]) -> np.ndarray:
    """Unit vectors (float32, one row per text); an empty text gives a zero row."""
    if not texts:
        return np.zeros((0, DIMS), dtype=np.float32)
    vectors = np.asarray(_load().embed(texts, norm=True, batch_size=512), dtype=np.float32)
    return np.nan_to_num(vectors)


def to_bytes(vector: np.ndarray) -> bytes:
    """What PromptEmbedding.vector stores: float16, half the size, the same ranking."""
    return vector.astype(np.float16).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float16).astype(np.float32)


def code(vectors: np.ndarray) -> np.ndarray:
    """Binary codes: one bit per dimension (positive or not), CODE_BYTES per row."""
    return np.packbits(np.atleast_2d(vectors) > 0, axis=1)
