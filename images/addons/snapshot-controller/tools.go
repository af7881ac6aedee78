//go:build tools

// The snapshot controller and the csi-snapshotter sidecar: upstream's own mains from external-snapshotter at the
// version go.mod pins. Its client is a nested module that upstream's go.mod replaces with ./client, which a
// module dependency cannot see: go.mod requires the published client/v8 at the same version instead.
package tools

import (
	_ "github.com/kubernetes-csi/external-snapshotter/v8/cmd/csi-snapshotter"
	_ "github.com/kubernetes-csi/external-snapshotter/v8/cmd/snapshot-controller"
)
