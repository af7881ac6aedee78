//go:build tools

// kube-network-policies' own main (its package is `cmd`, so the binary is named cmd), built from its module at
// the version go.mod pins.
package tools

import _ "sigs.k8s.io/kube-network-policies/cmd"
