//go:build tools

// metrics-server's own main, built from its module at the version go.mod pins.
package tools

import _ "sigs.k8s.io/metrics-server/cmd/metrics-server"
