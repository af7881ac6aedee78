// controller.go: the CSI Controller service: volumes (one tmpfs each), snapshots (tar.gz on the node's
// disk), restores and clones, and online expansion (a tmpfs remount).

package main

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"os"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const (
	mib             = int64(1) << 20
	defaultCapacity = int64(1) << 30
)

var controllerCaps = []csi.ControllerServiceCapability_RPC_Type{
	csi.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME,
	csi.ControllerServiceCapability_RPC_CREATE_DELETE_SNAPSHOT,
	csi.ControllerServiceCapability_RPC_LIST_SNAPSHOTS,
	csi.ControllerServiceCapability_RPC_EXPAND_VOLUME,
	csi.ControllerServiceCapability_RPC_CLONE_VOLUME,
	csi.ControllerServiceCapability_RPC_SINGLE_NODE_MULTI_WRITER,
}

func (d *Driver) ControllerGetCapabilities(context.Context, *csi.ControllerGetCapabilitiesRequest) (*csi.ControllerGetCapabilitiesResponse, error) {
	resp := &csi.ControllerGetCapabilitiesResponse{}
	for _, c := range controllerCaps {
		resp.Capabilities = append(resp.Capabilities, &csi.ControllerServiceCapability{
			Type: &csi.ControllerServiceCapability_Rpc{Rpc: &csi.ControllerServiceCapability_RPC{Type: c}}})
	}
	return resp, nil
}

// checkCapabilities accepts mount volumes in every access mode: on a one-node cluster even the
// multi-node modes are honest, since every pod shares the node's tmpfs. Block volumes are refused.
func checkCapabilities(caps []*csi.VolumeCapability) error {
	if len(caps) == 0 {
		return status.Error(codes.InvalidArgument, "volume capabilities missing")
	}
	for _, c := range caps {
		if c.GetBlock() != nil {
			return status.Error(codes.InvalidArgument, "block volumes are not supported, only mount")
		}
		if c.GetMount() == nil {
			return status.Error(codes.InvalidArgument, "access type missing: only mount is supported")
		}
		switch c.GetAccessMode().GetMode() {
		case csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER,
			csi.VolumeCapability_AccessMode_SINGLE_NODE_MULTI_WRITER,
			csi.VolumeCapability_AccessMode_SINGLE_NODE_SINGLE_WRITER,
			csi.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY,
			csi.VolumeCapability_AccessMode_MULTI_NODE_READER_ONLY,
			csi.VolumeCapability_AccessMode_MULTI_NODE_SINGLE_WRITER,
			csi.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER:
		default:
			return status.Errorf(codes.InvalidArgument, "access mode %v not supported", c.GetAccessMode().GetMode())
		}
	}
	return nil
}

// capacityFor rounds required_bytes up to a MiB (0 means the 1 GiB default, or limit_bytes rounded down
// to a MiB if that is smaller) and checks limit_bytes.
func capacityFor(r *csi.CapacityRange) (int64, error) {
	req, limit := r.GetRequiredBytes(), r.GetLimitBytes()
	if req < 0 || limit < 0 {
		return 0, status.Error(codes.InvalidArgument, "negative capacity")
	}
	if req == 0 {
		if limit == 0 || limit >= defaultCapacity {
			return defaultCapacity, nil
		}
		if c := limit / mib * mib; c > 0 {
			return c, nil
		}
		return 0, status.Errorf(codes.OutOfRange, "limit_bytes %d is below the 1 MiB minimum", limit)
	}
	c := (req + mib - 1) / mib * mib
	if limit > 0 && c > limit {
		return 0, status.Errorf(codes.OutOfRange, "required_bytes %d rounded up to a MiB (%d) exceeds limit_bytes %d", req, c, limit)
	}
	return c, nil
}

func (d *Driver) CreateVolume(_ context.Context, req *csi.CreateVolumeRequest) (*csi.CreateVolumeResponse, error) {
	if req.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "name missing")
	}
	id := req.GetName()
	if err := checkVolumeID(id); err != nil {
		return nil, err
	}
	if err := checkCapabilities(req.GetVolumeCapabilities()); err != nil {
		return nil, err
	}
	capacity, err := capacityFor(req.GetCapacityRange())
	if err != nil {
		return nil, err
	}
	srcSnap := req.GetVolumeContentSource().GetSnapshot().GetSnapshotId()
	srcVol := req.GetVolumeContentSource().GetVolume().GetVolumeId()

	d.mu.Lock()
	defer d.mu.Unlock()
	if v, ok := d.volumes[id]; ok {
		limit := req.GetCapacityRange().GetLimitBytes()
		if v.CapacityBytes < req.GetCapacityRange().GetRequiredBytes() || (limit > 0 && v.CapacityBytes > limit) ||
			v.SourceSnapshot != srcSnap || v.SourceVolume != srcVol {
			return nil, status.Errorf(codes.AlreadyExists, "volume %s exists with %d bytes (source snapshot %q, volume %q)",
				id, v.CapacityBytes, v.SourceSnapshot, v.SourceVolume)
		}
		return &csi.CreateVolumeResponse{Volume: d.csiVolume(v)}, nil
	}

	// The content to copy in, if any, and its size (which must fit).
	var content func(dir string) (int64, error)
	var need int64
	switch {
	case srcSnap != "":
		s, ok := d.snapshots[srcSnap]
		if !ok {
			return nil, status.Errorf(codes.NotFound, "snapshot %s not found", srcSnap)
		}
		need, content = s.SizeBytes, func(dir string) (int64, error) { return d.restoreSnapshot(s.ID, dir) }
	case srcVol != "":
		if _, ok := d.volumes[srcVol]; !ok {
			return nil, status.Errorf(codes.NotFound, "source volume %s not found", srcVol)
		}
		if need, err = treeSize(d.volumePath(srcVol)); err != nil {
			return nil, status.Errorf(codes.Internal, "size of source volume %s: %v", srcVol, err)
		}
		content = func(dir string) (int64, error) { return copyTree(d.volumePath(srcVol), dir) }
	case req.GetVolumeContentSource() != nil:
		return nil, status.Error(codes.InvalidArgument, "unsupported volume content source")
	}
	if need > capacity {
		return nil, status.Errorf(codes.OutOfRange, "content source holds %d bytes of files, more than the volume's %d bytes", need, capacity)
	}

	dir := d.volumePath(id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, status.Errorf(codes.Internal, "mkdir %s: %v", dir, err)
	}
	if mounted, _ := d.mounter.IsMountPoint(dir); mounted { // left by a CreateVolume that crashed
		log.Printf("volume %s: unmounting a leftover tmpfs with no metadata", id)
		if err := d.mounter.Unmount(dir); err != nil {
			return nil, status.Errorf(codes.Internal, "%v", err)
		}
	}
	if err := d.mounter.MountTmpfs(dir, capacity); err != nil {
		_ = os.Remove(dir)
		return nil, status.Errorf(codes.Internal, "%v", err)
	}
	v := &volumeMeta{ID: id, Name: req.GetName(), CapacityBytes: capacity,
		SourceSnapshot: srcSnap, SourceVolume: srcVol, CreatedAt: time.Now().UTC()}
	err = nil
	if content != nil {
		var n int64
		if n, err = content(dir); errors.Is(err, syscall.ENOSPC) {
			err = status.Errorf(codes.OutOfRange, "content source (%d bytes of files) does not fit the volume's %d bytes "+
				"(tmpfs counts whole pages): no space left after %d bytes", need, capacity, n)
		}
	}
	if err == nil {
		err = writeJSON(d.volumeMetaPath(id), v)
	}
	if err != nil {
		if uerr := d.mounter.Unmount(dir); uerr != nil {
			log.Printf("clean-up of volume %s: %v", id, uerr)
		}
		_ = removeIfExists(dir)
		if _, ok := status.FromError(err); !ok {
			err = status.Errorf(codes.Internal, "populating volume %s: %v", id, err)
		}
		return nil, err
	}
	d.volumes[id] = v
	return &csi.CreateVolumeResponse{Volume: d.csiVolume(v)}, nil
}

func (d *Driver) csiVolume(v *volumeMeta) *csi.Volume {
	vol := &csi.Volume{VolumeId: v.ID, CapacityBytes: v.CapacityBytes}
	if v.SourceSnapshot != "" {
		vol.ContentSource = &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{
			Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: v.SourceSnapshot}}}
	} else if v.SourceVolume != "" {
		vol.ContentSource = &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Volume{
			Volume: &csi.VolumeContentSource_VolumeSource{VolumeId: v.SourceVolume}}}
	}
	return vol
}

func (d *Driver) restoreSnapshot(snapID, dir string) (int64, error) {
	f, err := os.Open(d.snapshotArchivePath(snapID))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return 0, err
	}
	return extractTar(zr, dir)
}

// copyTree clones a volume through an in-memory tar stream, so a clone keeps what a snapshot keeps.
func copyTree(src, dst string) (int64, error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := writeTar(src, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	n, err := extractTar(pr, dst)
	pr.CloseWithError(errors.New("extraction stopped"))
	if werr := <-done; err == nil {
		err = werr
	}
	return n, err
}

func (d *Driver) DeleteVolume(_ context.Context, req *csi.DeleteVolumeRequest) (*csi.DeleteVolumeResponse, error) {
	id := req.GetVolumeId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id missing")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.volumes[id]; !ok {
		return &csi.DeleteVolumeResponse{}, nil
	}
	dir := d.volumePath(id)
	if mounted, err := d.mounter.IsMountPoint(dir); err != nil {
		return nil, status.Errorf(codes.Internal, "%v", err)
	} else if mounted {
		if err := d.mounter.Unmount(dir); err != nil {
			return nil, status.Errorf(codes.Internal, "%v", err)
		}
	}
	if err := removeIfExists(dir); err != nil {
		return nil, status.Errorf(codes.Internal, "%v", err)
	}
	if err := removeIfExists(d.volumeMetaPath(id)); err != nil {
		return nil, status.Errorf(codes.Internal, "%v", err)
	}
	delete(d.volumes, id)
	return &csi.DeleteVolumeResponse{}, nil
}

func (d *Driver) ValidateVolumeCapabilities(_ context.Context, req *csi.ValidateVolumeCapabilitiesRequest) (*csi.ValidateVolumeCapabilitiesResponse, error) {
	if req.GetVolumeId() == "" || len(req.GetVolumeCapabilities()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "volume_id and volume_capabilities are required")
	}
	d.mu.Lock()
	_, ok := d.volumes[req.GetVolumeId()]
	d.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "volume %s not found", req.GetVolumeId())
	}
	if err := checkCapabilities(req.GetVolumeCapabilities()); err != nil {
		return &csi.ValidateVolumeCapabilitiesResponse{Message: status.Convert(err).Message()}, nil
	}
	return &csi.ValidateVolumeCapabilitiesResponse{Confirmed: &csi.ValidateVolumeCapabilitiesResponse_Confirmed{
		VolumeContext: req.GetVolumeContext(), VolumeCapabilities: req.GetVolumeCapabilities(), Parameters: req.GetParameters()}}, nil
}

// ControllerExpandVolume grows the tmpfs in place; the pods' bind mounts share its superblock, so df
// inside them shows the new size at once and no node step is needed. A smaller size is a no-op.
func (d *Driver) ControllerExpandVolume(_ context.Context, req *csi.ControllerExpandVolumeRequest) (*csi.ControllerExpandVolumeResponse, error) {
	id := req.GetVolumeId()
	if id == "" || req.GetCapacityRange() == nil {
		return nil, status.Error(codes.InvalidArgument, "volume_id and capacity_range are required")
	}
	if req.GetVolumeCapability().GetBlock() != nil {
		return nil, status.Error(codes.InvalidArgument, "block volumes are not supported")
	}
	capacity, err := capacityFor(req.GetCapacityRange())
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.volumes[id]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "volume %s not found", id)
	}
	if capacity <= v.CapacityBytes {
		return &csi.ControllerExpandVolumeResponse{CapacityBytes: v.CapacityBytes}, nil
	}
	if err := d.mounter.ResizeTmpfs(d.volumePath(id), capacity); err != nil {
		return nil, status.Errorf(codes.Internal, "%v", err)
	}
	updated := *v
	updated.CapacityBytes = capacity
	if err := writeJSON(d.volumeMetaPath(id), &updated); err != nil {
		return nil, status.Errorf(codes.Internal, "persisting volume %s: %v", id, err)
	}
	*v = updated
	return &csi.ControllerExpandVolumeResponse{CapacityBytes: capacity, NodeExpansionRequired: false}, nil
}

// --- snapshots ---

func snapshotID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "snap-" + hex.EncodeToString(sum[:8])
}

func (d *Driver) CreateSnapshot(_ context.Context, req *csi.CreateSnapshotRequest) (*csi.CreateSnapshotResponse, error) {
	name, src := req.GetName(), req.GetSourceVolumeId()
	if name == "" || src == "" {
		return nil, status.Error(codes.InvalidArgument, "name and source_volume_id are required")
	}
	id := snapshotID(name)
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.snapshots[id]; ok {
		if s.SourceVolume != src {
			return nil, status.Errorf(codes.AlreadyExists, "snapshot %s (%s) exists for volume %s", name, id, s.SourceVolume)
		}
		return &csi.CreateSnapshotResponse{Snapshot: csiSnapshot(s)}, nil
	}
	if _, ok := d.volumes[src]; !ok {
		return nil, status.Errorf(codes.NotFound, "source volume %s not found", src)
	}
	s := &snapshotMeta{ID: id, Name: name, SourceVolume: src, CreatedAt: time.Now().UTC()}
	var err error
	if s.SizeBytes, err = d.archiveVolume(src, d.snapshotArchivePath(id)); err == nil {
		err = writeJSON(d.snapshotMetaPath(id), s)
	}
	if err != nil {
		_ = os.Remove(d.snapshotArchivePath(id))
		return nil, status.Errorf(codes.Internal, "snapshot of volume %s: %v", src, err)
	}
	d.snapshots[id] = s
	return &csi.CreateSnapshotResponse{Snapshot: csiSnapshot(s)}, nil
}

// archiveVolume writes the volume's tree to archive as tar.gz (temporary file, fsync, rename).
func (d *Driver) archiveVolume(volID, archive string) (int64, error) {
	tmp := archive + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp) // no-op after the rename
	zw := gzip.NewWriter(f)
	n, err := writeTar(d.volumePath(volID), zw)
	for _, step := range []func() error{zw.Close, f.Sync, f.Close} {
		if serr := step(); err == nil {
			err = serr
		}
	}
	if err != nil {
		return 0, err
	}
	return n, os.Rename(tmp, archive)
}

func csiSnapshot(s *snapshotMeta) *csi.Snapshot {
	return &csi.Snapshot{SnapshotId: s.ID, SourceVolumeId: s.SourceVolume, SizeBytes: s.SizeBytes,
		CreationTime: timestamppb.New(s.CreatedAt), ReadyToUse: true}
}

func (d *Driver) DeleteSnapshot(_ context.Context, req *csi.DeleteSnapshotRequest) (*csi.DeleteSnapshotResponse, error) {
	id := req.GetSnapshotId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "snapshot_id missing")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.snapshots[id]; !ok {
		return &csi.DeleteSnapshotResponse{}, nil
	}
	for _, p := range []string{d.snapshotArchivePath(id), d.snapshotMetaPath(id)} {
		if err := removeIfExists(p); err != nil {
			return nil, status.Errorf(codes.Internal, "%v", err)
		}
	}
	delete(d.snapshots, id)
	return &csi.DeleteSnapshotResponse{}, nil
}

// ListSnapshots lists by id order; starting_token is the index of the first entry to return.
func (d *Driver) ListSnapshots(_ context.Context, req *csi.ListSnapshotsRequest) (*csi.ListSnapshotsResponse, error) {
	if req.GetMaxEntries() < 0 {
		return nil, status.Error(codes.InvalidArgument, "negative max_entries")
	}
	d.mu.Lock()
	var all []*snapshotMeta
	for _, s := range d.snapshots {
		if (req.GetSnapshotId() == "" || s.ID == req.GetSnapshotId()) &&
			(req.GetSourceVolumeId() == "" || s.SourceVolume == req.GetSourceVolumeId()) {
			all = append(all, s)
		}
	}
	d.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	start := 0
	if t := req.GetStartingToken(); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > len(all) {
			return nil, status.Errorf(codes.Aborted, "invalid starting_token %q", t)
		}
		start = n
	}
	end := len(all)
	if m := int(req.GetMaxEntries()); m > 0 && start+m < end {
		end = start + m
	}
	resp := &csi.ListSnapshotsResponse{}
	for _, s := range all[start:end] {
		resp.Entries = append(resp.Entries, &csi.ListSnapshotsResponse_Entry{Snapshot: csiSnapshot(s)})
	}
	if end < len(all) {
		resp.NextToken = strconv.Itoa(end)
	}
	return resp, nil
}
