"""The shared signature vectors in sdk/vectors/signatures.json, which every evq SDK must reproduce."""

import json
from pathlib import Path

VECTORS_PATH = Path(__file__).resolve().parent.parent.parent / "vectors" / "signatures.json"


def load_vectors() -> dict:
    """Return the parsed vectors file."""
    with VECTORS_PATH.open(encoding="utf-8") as file:
        return json.load(file)
