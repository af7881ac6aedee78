// registration_test.go: the servers run() starts, over real unix sockets, with the generated gRPC clients.

package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

func dial(t *testing.T, sock string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestRunServesCSIAndRegistration(t *testing.T) {
	// A short directory: a unix socket path must fit in 108 bytes, and t.TempDir's are long.
	dir, err := os.MkdirTemp("", "csireg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := config{
		endpoint:                "unix://" + filepath.Join(dir, "csi", "csi.sock"),
		nodeID:                  "kind-control-plane",
		stateDir:                filepath.Join(dir, "state"),
		registrationDir:         filepath.Join(dir, "registry"),
		kubeletRegistrationPath: "/var/lib/kubelet/plugins/" + driverName + "/csi.sock",
	}
	csiSock := filepath.Join(dir, "csi", "csi.sock")
	regSock := filepath.Join(dir, "registry", driverName+"-reg.sock")
	// Stale sockets (here plain files) from a killed container must not stop the start.
	for _, p := range []string{csiSock, regSock} {
		writeFileT(t, p, []byte("stale"), 0o600)
	}
	stop, err := run(c, newFakeMounter())
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()

	info, err := registerapi.NewRegistrationClient(dial(t, regSock)).GetInfo(ctx, &registerapi.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetType() != "CSIPlugin" || info.GetName() != "hostpath.csi.edirunbook.local" ||
		info.GetEndpoint() != c.kubeletRegistrationPath || len(info.GetSupportedVersions()) != 1 || info.GetSupportedVersions()[0] != "1.0.0" {
		t.Fatalf("GetInfo: %v", info)
	}
	for _, ok := range []bool{true, false} {
		if _, err := registerapi.NewRegistrationClient(dial(t, regSock)).NotifyRegistrationStatus(ctx,
			&registerapi.RegistrationStatus{PluginRegistered: ok, Error: "test"}); err != nil {
			t.Fatal(err)
		}
	}

	conn := dial(t, csiSock)
	pi, err := csi.NewIdentityClient(conn).GetPluginInfo(ctx, &csi.GetPluginInfoRequest{})
	if err != nil || pi.GetName() != driverName || pi.GetVendorVersion() != "0.1.0" {
		t.Fatalf("GetPluginInfo %v %v", pi, err)
	}
	caps, err := csi.NewIdentityClient(conn).GetPluginCapabilities(ctx, &csi.GetPluginCapabilitiesRequest{})
	if err != nil || len(caps.GetCapabilities()) != 2 ||
		caps.GetCapabilities()[1].GetVolumeExpansion().GetType() != csi.PluginCapability_VolumeExpansion_ONLINE {
		t.Fatalf("GetPluginCapabilities %v %v", caps, err)
	}
	ni, err := csi.NewNodeClient(conn).NodeGetInfo(ctx, &csi.NodeGetInfoRequest{})
	if err != nil || ni.GetNodeId() != "kind-control-plane" {
		t.Fatalf("NodeGetInfo %v %v", ni, err)
	}
	cc, err := csi.NewControllerClient(conn).ControllerGetCapabilities(ctx, &csi.ControllerGetCapabilitiesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[csi.ControllerServiceCapability_RPC_Type]bool{}
	for _, c := range cc.GetCapabilities() {
		have[c.GetRpc().GetType()] = true
	}
	for _, want := range []csi.ControllerServiceCapability_RPC_Type{
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME, csi.ControllerServiceCapability_RPC_CREATE_DELETE_SNAPSHOT,
		csi.ControllerServiceCapability_RPC_LIST_SNAPSHOTS, csi.ControllerServiceCapability_RPC_EXPAND_VOLUME} {
		if !have[want] {
			t.Errorf("controller capability %v missing", want)
		}
	}
	if have[csi.ControllerServiceCapability_RPC_PUBLISH_UNPUBLISH_VOLUME] {
		t.Error("PUBLISH_UNPUBLISH_VOLUME advertised: the CSIDriver says attachRequired false")
	}
	// A call through the interceptor that fails still reaches the client as a status.
	if _, err := csi.NewControllerClient(conn).DeleteVolume(ctx, &csi.DeleteVolumeRequest{}); err == nil {
		t.Fatal("DeleteVolume without an id succeeded")
	}

	stop()
	stopped = true
	for _, p := range []string{csiSock, regSock} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Fatalf("socket %s not removed on stop (%v)", p, err)
		}
	}
}
