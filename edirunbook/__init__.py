"""Library behind the executable Bots EDI runbook: environments, images, cluster, database, reports."""
