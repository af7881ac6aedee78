// Command csi-hostpath is a TEST CSI driver for the edirunbook kind environment, NOT for production.
//
// It serves one node: each volume is a tmpfs of the volume's size (its data lives in memory and is lost
// when the node restarts), snapshots are tar.gz archives on the node's disk, and it registers itself
// with the kubelet (no node-driver-registrar). See README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
)

type config struct {
	endpoint, nodeID, stateDir, registrationDir, kubeletRegistrationPath string
}

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds | log.LUTC)
	var c config
	flag.StringVar(&c.endpoint, "endpoint", "unix:///csi/csi.sock", "CSI endpoint (unix socket)")
	flag.StringVar(&c.nodeID, "nodeid", "", "node id (required: the node name)")
	flag.StringVar(&c.stateDir, "state-dir", "/var/lib/csi-edirunbook", "directory on the node for volumes and snapshots")
	flag.StringVar(&c.registrationDir, "registration-dir", "/registration", "the kubelet's plugins_registry directory, mounted")
	flag.StringVar(&c.kubeletRegistrationPath, "kubelet-registration-path",
		"/var/lib/kubelet/plugins/"+driverName+"/csi.sock", "the CSI socket's path as the kubelet sees it")
	flag.Parse()
	if c.nodeID == "" {
		fmt.Fprintln(os.Stderr, "--nodeid is required")
		os.Exit(2)
	}
	log.Printf("%s %s (TEST driver) starting on node %s", driverName, driverVersion, c.nodeID)
	stop, err := run(c, newRealMounter())
	if err != nil {
		log.Fatal(err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	log.Printf("got %v, stopping", <-sig)
	stop()
}

// run loads the driver, serves CSI and then the registration socket (the kubelet dials the CSI socket as
// soon as it sees the registration one), and returns a function that stops both and removes the sockets.
func run(c config, m Mounter) (stop func(), err error) {
	csiSock, ok := strings.CutPrefix(c.endpoint, "unix://")
	if !ok && strings.Contains(c.endpoint, "://") {
		return nil, fmt.Errorf("endpoint %q: only unix sockets are supported", c.endpoint)
	}
	d, err := NewDriver(c.nodeID, c.stateDir, m)
	if err != nil {
		return nil, err
	}
	csiServer := grpc.NewServer(grpc.UnaryInterceptor(logCalls))
	csi.RegisterIdentityServer(csiServer, d)
	csi.RegisterControllerServer(csiServer, d)
	csi.RegisterNodeServer(csiServer, d)
	csiLis, err := listenUnix(csiSock)
	if err != nil {
		return nil, err
	}
	go serve("CSI", csiServer, csiLis)

	regSock := filepath.Join(c.registrationDir, driverName+"-reg.sock")
	regServer := newRegistrationServer(c.kubeletRegistrationPath)
	regLis, err := listenUnix(regSock)
	if err != nil {
		csiServer.Stop()
		_ = os.Remove(csiSock)
		return nil, err
	}
	go serve("registration", regServer, regLis)

	return func() {
		// The registration socket goes first, so the kubelet stops using the plugin before CSI ends.
		for _, s := range []struct {
			srv  *grpc.Server
			sock string
		}{{regServer, regSock}, {csiServer, csiSock}} {
			stopGracefully(s.srv, 5*time.Second)
			_ = os.Remove(s.sock)
		}
		log.Printf("stopped")
	}, nil
}

// listenUnix removes a stale socket (left by a killed container) before listening.
func listenUnix(sock string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(sock), 0o755); err != nil {
		return nil, err
	}
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("removing stale socket %s: %w", sock, err)
	}
	l, err := net.Listen("unix", sock)
	if err != nil {
		return nil, err
	}
	log.Printf("listening on %s", sock)
	return l, nil
}

func serve(what string, s *grpc.Server, l net.Listener) {
	if err := s.Serve(l); err != nil {
		log.Printf("%s server: %v", what, err)
	}
}

func stopGracefully(s *grpc.Server, timeout time.Duration) {
	done := make(chan struct{})
	go func() { s.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		s.Stop()
	}
}
