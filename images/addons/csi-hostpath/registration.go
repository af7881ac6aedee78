// registration.go: the kubelet plugin registration service (what node-driver-registrar would do): the
// kubelet finds our socket in its plugins_registry directory, asks GetInfo, then connects to the CSI socket.

package main

import (
	"context"
	"log"

	"google.golang.org/grpc"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

type registrationServer struct {
	registerapi.UnimplementedRegistrationServer
	endpoint string // the CSI socket as the kubelet sees it
}

func (r *registrationServer) GetInfo(context.Context, *registerapi.InfoRequest) (*registerapi.PluginInfo, error) {
	log.Printf("registration: GetInfo: %s at %s", driverName, r.endpoint)
	return &registerapi.PluginInfo{
		Type:              registerapi.CSIPlugin,
		Name:              driverName,
		Endpoint:          r.endpoint,
		SupportedVersions: []string{"1.0.0"},
	}, nil
}

func (r *registrationServer) NotifyRegistrationStatus(_ context.Context, s *registerapi.RegistrationStatus) (*registerapi.RegistrationStatusResponse, error) {
	if s.GetPluginRegistered() {
		log.Printf("registration: the kubelet registered %s", driverName)
	} else {
		log.Printf("registration: ERROR: the kubelet did not register %s: %s", driverName, s.GetError())
	}
	return &registerapi.RegistrationStatusResponse{}, nil
}

func newRegistrationServer(kubeletEndpoint string) *grpc.Server {
	s := grpc.NewServer()
	registerapi.RegisterRegistrationServer(s, &registrationServer{endpoint: kubeletEndpoint})
	return s
}
