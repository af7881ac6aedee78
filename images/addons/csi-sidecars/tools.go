//go:build tools

// The CSI sidecars the kind environment's hostpath driver runs beside it (environments/kind/addons/csi-hostpath):
// upstream's own mains, built from their modules at the versions go.mod pins. Provisioner and resizer share one
// module graph (both on Kubernetes 0.33), so they are compiled together.
package tools

import (
	_ "github.com/kubernetes-csi/external-provisioner/v5/cmd/csi-provisioner"
	_ "github.com/kubernetes-csi/external-resizer/cmd/csi-resizer"
)
