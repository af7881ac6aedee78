"""Environments: where the scenarios run (a throw-away kind cluster, or an existing live cluster)."""
