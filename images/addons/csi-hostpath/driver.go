// driver.go: the driver's state on the node (volume and snapshot metadata as JSON files), its start-up
// recovery, the CSI Identity service and the gRPC logging interceptor.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const (
	driverName    = "hostpath.csi.edirunbook.local"
	driverVersion = "0.1.0"
)

// volumeMeta is persisted as <state-dir>/volumes/<id>.json.
type volumeMeta struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	CapacityBytes  int64     `json:"capacityBytes"`
	SourceSnapshot string    `json:"sourceSnapshotId,omitempty"`
	SourceVolume   string    `json:"sourceVolumeId,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
}

// snapshotMeta is persisted as <state-dir>/snapshots/<id>.json, next to <id>.tar.gz.
type snapshotMeta struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	SourceVolume string    `json:"sourceVolumeId"`
	SizeBytes    int64     `json:"sizeBytes"` // total size of the regular files archived
	CreatedAt    time.Time `json:"createdAt"`
}

// Driver implements the CSI Identity, Controller and Node services. One mutex serialises every call:
// this is a one-node test driver, and simple beats fast here.
type Driver struct {
	csi.UnimplementedIdentityServer
	csi.UnimplementedControllerServer
	csi.UnimplementedNodeServer

	nodeID   string
	stateDir string
	mounter  Mounter

	mu        sync.Mutex
	volumes   map[string]*volumeMeta   // by id
	snapshots map[string]*snapshotMeta // by id
}

// NewDriver loads the metadata under stateDir and mounts a fresh tmpfs for every volume whose tmpfs is
// gone (the node restarted: its data was in memory).
func NewDriver(nodeID, stateDir string, m Mounter) (*Driver, error) {
	d := &Driver{nodeID: nodeID, stateDir: stateDir, mounter: m,
		volumes: map[string]*volumeMeta{}, snapshots: map[string]*snapshotMeta{}}
	for _, dir := range []string{d.volumesDir(), d.snapshotsDir()} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	if err := loadJSON(d.volumesDir(), func(b []byte) (string, error) {
		v := &volumeMeta{}
		err := json.Unmarshal(b, v)
		d.volumes[v.ID] = v
		return v.ID, err
	}); err != nil {
		return nil, err
	}
	if err := loadJSON(d.snapshotsDir(), func(b []byte) (string, error) {
		s := &snapshotMeta{}
		err := json.Unmarshal(b, s)
		d.snapshots[s.ID] = s
		return s.ID, err
	}); err != nil {
		return nil, err
	}
	for _, v := range d.volumes {
		if err := d.recoverVolume(v); err != nil {
			return nil, err
		}
	}
	log.Printf("state %s: %d volumes, %d snapshots", stateDir, len(d.volumes), len(d.snapshots))
	return d, nil
}

func (d *Driver) recoverVolume(v *volumeMeta) error {
	dir := d.volumePath(v.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mounted, err := d.mounter.IsMountPoint(dir)
	if err != nil || mounted {
		return err
	}
	log.Printf("WARNING: DATA LOST: volume %s (%s) had no tmpfs mounted (the node restarted?): "+
		"mounting an EMPTY one of %d bytes", v.ID, v.Name, v.CapacityBytes)
	return d.mounter.MountTmpfs(dir, v.CapacityBytes)
}

// loadJSON reads every *.json file of dir with parse, and removes leftover temporary files.
func loadJSON(dir string, parse func([]byte) (string, error)) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if strings.HasSuffix(e.Name(), ".tmp") {
			log.Printf("removing leftover %s", p)
			_ = os.Remove(p)
			continue
		}
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if id, err := parse(b); err != nil || id+".json" != e.Name() {
			return fmt.Errorf("bad metadata file %s (id %q): %v", p, id, err)
		}
	}
	return nil
}

// writeJSON writes v to p atomically (temporary file, fsync, rename).
func writeJSON(p string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

func removeIfExists(p string) error {
	if err := os.RemoveAll(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (d *Driver) volumesDir() string              { return filepath.Join(d.stateDir, "volumes") }
func (d *Driver) snapshotsDir() string            { return filepath.Join(d.stateDir, "snapshots") }
func (d *Driver) volumePath(id string) string     { return filepath.Join(d.volumesDir(), id) }
func (d *Driver) volumeMetaPath(id string) string { return filepath.Join(d.volumesDir(), id+".json") }
func (d *Driver) snapshotMetaPath(id string) string {
	return filepath.Join(d.snapshotsDir(), id+".json")
}
func (d *Driver) snapshotArchivePath(id string) string {
	return filepath.Join(d.snapshotsDir(), id+".tar.gz")
}

// safeName accepts the names the external-provisioner makes (pvc-<uuid>) and the like, used as the volume
// id and so as a path element: no '/', no "..", no clash with the metadata or temporary files.
var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

func checkVolumeID(id string) error {
	if !safeName.MatchString(id) || strings.Contains(id, "..") ||
		strings.HasSuffix(id, ".json") || strings.HasSuffix(id, ".tmp") {
		return status.Errorf(codes.InvalidArgument, "volume name/id %q is not a safe path element", id)
	}
	return nil
}

// --- Identity service ---

func (d *Driver) GetPluginInfo(context.Context, *csi.GetPluginInfoRequest) (*csi.GetPluginInfoResponse, error) {
	return &csi.GetPluginInfoResponse{Name: driverName, VendorVersion: driverVersion}, nil
}

func (d *Driver) GetPluginCapabilities(context.Context, *csi.GetPluginCapabilitiesRequest) (*csi.GetPluginCapabilitiesResponse, error) {
	return &csi.GetPluginCapabilitiesResponse{Capabilities: []*csi.PluginCapability{
		{Type: &csi.PluginCapability_Service_{Service: &csi.PluginCapability_Service{
			Type: csi.PluginCapability_Service_CONTROLLER_SERVICE}}},
		{Type: &csi.PluginCapability_VolumeExpansion_{VolumeExpansion: &csi.PluginCapability_VolumeExpansion{
			Type: csi.PluginCapability_VolumeExpansion_ONLINE}}},
	}}, nil
}

func (d *Driver) Probe(context.Context, *csi.ProbeRequest) (*csi.ProbeResponse, error) {
	return &csi.ProbeResponse{Ready: wrapperspb.Bool(true)}, nil
}

// --- logging ---

// logCalls logs every call with the volume or snapshot it names and its result or error. Requests are
// not logged whole: CSI requests may carry secrets.
func logCalls(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	method := info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]
	ids := requestIDs(req)
	start := time.Now()
	resp, err := handler(ctx, req)
	if err != nil {
		log.Printf("%s%s: error: %v (%v)", method, ids, err, time.Since(start).Round(time.Millisecond))
	} else {
		log.Printf("%s%s: ok: %v (%v)", method, ids, resp, time.Since(start).Round(time.Millisecond))
	}
	return resp, err
}

func requestIDs(req any) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	if r, ok := req.(interface{ GetName() string }); ok {
		add("name", r.GetName())
	}
	if r, ok := req.(interface{ GetVolumeId() string }); ok {
		add("volume", r.GetVolumeId())
	}
	if r, ok := req.(interface{ GetSourceVolumeId() string }); ok {
		add("source", r.GetSourceVolumeId())
	}
	if r, ok := req.(interface{ GetSnapshotId() string }); ok {
		add("snapshot", r.GetSnapshotId())
	}
	if r, ok := req.(interface{ GetTargetPath() string }); ok {
		add("target", r.GetTargetPath())
	}
	if len(parts) == 0 {
		return ""
	}
	return " [" + strings.Join(parts, " ") + "]"
}
