//go:build tools

// Prometheus's own mains, built from its module at the version go.mod pins: the server (the monitoring add-on's
// image) and promtool (the alert rules' checks and unit tests on the host, `make unit`). Built with the tags
// remove_all_sd,enable_kubernetes_sd: Kubernetes service discovery only (addons.py).
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
