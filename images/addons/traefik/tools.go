//go:build tools

// Traefik's own main, built from its module at the version go.mod pins (see README.md there).
package tools

import _ "github.com/traefik/traefik/v3/cmd/traefik"
