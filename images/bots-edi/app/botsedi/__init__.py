"""Glue of this project around the Bots EDI translator (bots-ediint 3.3.1) for running it on Kubernetes.

Nothing here changes how Bots translates; it lays out config and directories, creates the schema,
serves /health/* and /metrics, and fixes the job queue server of 3.3.1.
"""
