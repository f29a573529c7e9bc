"""Real data shipped with rnnkit (see README.md here for sources)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def path(name: str) -> Path:
    """Filesystem path of a shipped data file, e.g. ``path("cfpb_complaints_2018_2019.csv")``."""
    return Path(str(resources.files(__package__).joinpath(name)))


COMPLAINT_EVENTS = "cfpb_complaints_2018_2019.csv"
COMPLAINT_NARRATIVES = "cfpb_narratives.csv.gz"
STOPWORDS = "stopwords_english.txt"
