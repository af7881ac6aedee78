//go:build tools

// Velero for the runbook's `velero backup create / describe / get` (environments/kind/addons/velero): the
// velero binary (server and CLI in one), its AWS object-store plugin, and gofakes3, an S3-compatible store that
// keeps the backups in memory inside the cluster. All three are upstream's own mains, compiled together in one
// module graph at the versions go.mod pins.
package tools

import (
	_ "github.com/johannesboyne/gofakes3/cmd/gofakes3"
	_ "github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws"
	_ "github.com/vmware-tanzu/velero/cmd/velero"
)
