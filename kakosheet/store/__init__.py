"""The canonical store: every case, every version, the ID sequences and the sync runs."""
