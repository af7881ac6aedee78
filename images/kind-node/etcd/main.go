// Command etcd starts the etcd server from its pinned Go module (the same entry
// point the upstream binary uses), for the control-plane image kubeadm expects.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
