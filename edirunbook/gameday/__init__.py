"""Game days: the suite on a live cluster, behind guard rails (guard), with the known state observed rather than
imposed (state), and faults that work on a real cluster, bounded and always rolled back (faults)."""
