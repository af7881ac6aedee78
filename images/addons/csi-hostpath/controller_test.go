// controller_test.go: the Controller service against the fake mounter: idempotency, capacities, access
// modes, snapshot/restore round trips, clones, expansion, deletion and ListSnapshots.

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
)

var ctx = context.Background()

func TestCreateVolumeIdempotentAndAlreadyExists(t *testing.T) {
	d, fm := newTestDriver(t)
	v1 := mustCreate(t, d, "pvc-1", 10*mib)
	v2 := mustCreate(t, d, "pvc-1", 10*mib)
	if v1.GetVolumeId() != "pvc-1" || v2.GetVolumeId() != v1.GetVolumeId() || v2.GetCapacityBytes() != 10*mib {
		t.Fatalf("not idempotent: %v then %v", v1, v2)
	}
	if m, ok := fm.get(d.volumePath("pvc-1")); !ok || !m.tmpfs || m.size != 10*mib {
		t.Fatalf("tmpfs mount %+v %v, want 10 MiB", m, ok)
	}
	// A smaller request is satisfied by the existing volume; a larger one, or a lower limit, is not.
	if v := mustCreate(t, d, "pvc-1", 5*mib); v.GetCapacityBytes() != 10*mib {
		t.Fatalf("smaller request gave %v", v)
	}
	_, err := d.CreateVolume(ctx, createReq("pvc-1", 20*mib, 0))
	wantCode(t, err, codes.AlreadyExists)
	_, err = d.CreateVolume(ctx, createReq("pvc-1", 0, 5*mib))
	wantCode(t, err, codes.AlreadyExists)
	// Same name, other content source.
	req := createReq("pvc-1", 10*mib, 0)
	req.VolumeContentSource = &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Volume{
		Volume: &csi.VolumeContentSource_VolumeSource{VolumeId: "pvc-1"}}}
	_, err = d.CreateVolume(ctx, req)
	wantCode(t, err, codes.AlreadyExists)

	for _, bad := range []string{"", "a/b", "..", "a..b", ".hidden", "x.json", "x.tmp"} {
		_, err := d.CreateVolume(ctx, createReq(bad, mib, 0))
		wantCode(t, err, codes.InvalidArgument)
	}
	// The metadata is on disk, in JSON.
	var meta volumeMeta
	b, err := os.ReadFile(d.volumeMetaPath("pvc-1"))
	if err != nil || json.Unmarshal(b, &meta) != nil || meta.Name != "pvc-1" || meta.CapacityBytes != 10*mib || meta.CreatedAt.IsZero() {
		t.Fatalf("metadata %s: %+v %v", b, meta, err)
	}
}

func TestCapacityRoundingAndLimits(t *testing.T) {
	for _, c := range []struct {
		required, limit, want int64
		code                  codes.Code
	}{
		{0, 0, 1 << 30, codes.OK},
		{1, 0, mib, codes.OK},
		{mib, 0, mib, codes.OK},
		{mib + 1, 0, 2 * mib, codes.OK},
		{5*mib + 1, 6 * mib, 6 * mib, codes.OK},
		{5*mib + 1, 6*mib - 1, 0, codes.OutOfRange}, // rounds up past the limit
		{0, 100 * mib, 100 * mib, codes.OK},         // no request: the limit, below the default
		{0, 100*mib + 5, 100 * mib, codes.OK},
		{0, 1000, 0, codes.OutOfRange},
		{10 * mib, 5 * mib, 0, codes.OutOfRange},
		{-1, 0, 0, codes.InvalidArgument},
	} {
		d, fm := newTestDriver(t)
		resp, err := d.CreateVolume(ctx, createReq("pvc-c", c.required, c.limit))
		wantCode(t, err, c.code)
		if c.code != codes.OK {
			if _, ok := fm.get(d.volumePath("pvc-c")); ok {
				t.Fatalf("%+v: a failed CreateVolume left a mount", c)
			}
			continue
		}
		if got := resp.GetVolume().GetCapacityBytes(); got != c.want {
			t.Fatalf("required %d limit %d: capacity %d, want %d", c.required, c.limit, got, c.want)
		}
		if m, _ := fm.get(d.volumePath("pvc-c")); m.size != c.want {
			t.Fatalf("required %d: tmpfs size %d, want %d", c.required, m.size, c.want)
		}
	}
}

func TestAccessModes(t *testing.T) {
	d, _ := newTestDriver(t)
	for mode := range csi.VolumeCapability_AccessMode_Mode_name {
		m := csi.VolumeCapability_AccessMode_Mode(mode)
		req := createReq("pvc-m", mib, 0)
		req.VolumeCapabilities = []*csi.VolumeCapability{mountCap(m)}
		_, err := d.CreateVolume(ctx, req)
		if m == csi.VolumeCapability_AccessMode_UNKNOWN {
			wantCode(t, err, codes.InvalidArgument)
		} else {
			wantCode(t, err, codes.OK) // RWX (MULTI_NODE_MULTI_WRITER) included
		}
	}
	block := &csi.VolumeCapability{AccessType: &csi.VolumeCapability_Block{Block: &csi.VolumeCapability_BlockVolume{}},
		AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER}}
	req := createReq("pvc-block", mib, 0)
	req.VolumeCapabilities = []*csi.VolumeCapability{rwo, block}
	_, err := d.CreateVolume(ctx, req)
	wantCode(t, err, codes.InvalidArgument)
	req.VolumeCapabilities = nil
	_, err = d.CreateVolume(ctx, req)
	wantCode(t, err, codes.InvalidArgument)

	rwx := mountCap(csi.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER)
	resp, err := d.ValidateVolumeCapabilities(ctx, &csi.ValidateVolumeCapabilitiesRequest{VolumeId: "pvc-m", VolumeCapabilities: []*csi.VolumeCapability{rwx}})
	if err != nil || resp.GetConfirmed() == nil {
		t.Fatalf("RWX not confirmed: %v %v", resp, err)
	}
	resp, err = d.ValidateVolumeCapabilities(ctx, &csi.ValidateVolumeCapabilitiesRequest{VolumeId: "pvc-m", VolumeCapabilities: []*csi.VolumeCapability{block}})
	if err != nil || resp.GetConfirmed() != nil || resp.GetMessage() == "" {
		t.Fatalf("block confirmed: %v %v", resp, err)
	}
	_, err = d.ValidateVolumeCapabilities(ctx, &csi.ValidateVolumeCapabilitiesRequest{VolumeId: "nope", VolumeCapabilities: []*csi.VolumeCapability{rwx}})
	wantCode(t, err, codes.NotFound)
}

// entry is what a round trip must keep of one file.
type entry struct {
	Mode     fs.FileMode
	Data     string // sha256 of the contents, or symlink target
	MtimeNs  int64
	UID, GID uint32 // compared only when running as root
}

func snapshotTree(t *testing.T, root string) map[string]entry {
	t.Helper()
	asRoot := os.Geteuid() == 0
	tree := map[string]entry{}
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := entry{Mode: fi.Mode(), MtimeNs: fi.ModTime().UnixNano()}
		if asRoot { // owners can only be restored by root; otherwise only this assertion is skipped
			st := fi.Sys().(*syscall.Stat_t)
			e.UID, e.GID = st.Uid, st.Gid
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			e.Data, err = os.Readlink(p)
			e.Mode = fs.ModeSymlink // a symlink's permission bits mean nothing on Linux
		case fi.Mode().IsRegular():
			var b []byte
			b, err = os.ReadFile(p)
			e.Data = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		rel, _ := filepath.Rel(root, p)
		tree[rel] = e
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// fillTree writes a tree with every kind of entry and attribute a snapshot must keep.
func fillTree(t *testing.T, root string) {
	t.Helper()
	big := make([]byte, 300*1024)
	rand.New(rand.NewSource(1)).Read(big)
	writeFileT(t, filepath.Join(root, "a.txt"), []byte("hello"), 0o640)
	writeFileT(t, filepath.Join(root, "sub", "b.bin"), big, 0o600)
	writeFileT(t, filepath.Join(root, "sub", "ro", "c"), []byte("read only"), 0o444)
	writeFileT(t, filepath.Join(root, "empty-file"), nil, 0o755)
	for _, dir := range []string{"empty", "sub/ro"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		if err != nil {
			t.Helper()
			t.Fatal(err)
		}
	}
	must(os.Symlink("sub/b.bin", filepath.Join(root, "link")))
	must(os.Symlink("/nonexistent/abs", filepath.Join(root, "dangling")))
	must(unix.Chmod(filepath.Join(root, "sub"), 0o2775)) // setgid, as fsGroup leaves it
	must(os.Chmod(filepath.Join(root, "sub", "ro"), 0o555))
	must(os.Chmod(root, 0o2770))
	if os.Geteuid() == 0 {
		must(os.Lchown(filepath.Join(root, "a.txt"), 1234, 5678))
		must(os.Lchown(filepath.Join(root, "link"), 4321, 8765))
		must(os.Lchown(filepath.Join(root, "sub", "ro"), 1000, 2000))
		must(unix.Chmod(filepath.Join(root, "sub"), 0o2775)) // chown above is on other entries, but be sure
	}
	// Mtimes last, deepest first, with nanoseconds.
	base := time.Date(2020, 1, 2, 3, 4, 5, 123456789, time.UTC)
	paths := []string{"sub/ro/c", "sub/ro", "sub/b.bin", "sub", "a.txt", "empty", "empty-file", "link", "dangling", "."}
	for i, p := range paths {
		ts := unix.NsecToTimespec(base.Add(time.Duration(i) * time.Hour).UnixNano())
		must(unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Join(root, p), []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW))
	}
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	d, _ := newTestDriver(t)
	mustCreate(t, d, "pvc-src", 8*mib)
	fillTree(t, d.volumePath("pvc-src"))
	want := snapshotTree(t, d.volumePath("pvc-src"))

	resp, err := d.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: "snapshot-1", SourceVolumeId: "pvc-src"})
	if err != nil {
		t.Fatal(err)
	}
	s := resp.GetSnapshot()
	if !s.GetReadyToUse() || s.GetSourceVolumeId() != "pvc-src" || !strings.HasPrefix(s.GetSnapshotId(), "snap-") ||
		s.GetSizeBytes() != 300*1024+5+9 || s.GetCreationTime() == nil {
		t.Fatalf("snapshot %v", s)
	}
	// The archive is a real gzip file on the node's disk, next to its metadata.
	f, err := os.Open(d.snapshotArchivePath(s.GetSnapshotId()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gzip.NewReader(f); err != nil {
		t.Fatalf("archive is not gzip: %v", err)
	}
	f.Close()
	if _, err := os.Stat(d.snapshotMetaPath(s.GetSnapshotId())); err != nil {
		t.Fatal(err)
	}
	// Idempotent by name; another source is AlreadyExists; an unknown source NotFound.
	again, err := d.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: "snapshot-1", SourceVolumeId: "pvc-src"})
	if err != nil || again.GetSnapshot().GetSnapshotId() != s.GetSnapshotId() {
		t.Fatalf("not idempotent: %v %v", again, err)
	}
	mustCreate(t, d, "pvc-other", mib)
	_, err = d.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: "snapshot-1", SourceVolumeId: "pvc-other"})
	wantCode(t, err, codes.AlreadyExists)
	_, err = d.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: "snapshot-2", SourceVolumeId: "pvc-gone"})
	wantCode(t, err, codes.NotFound)

	// The source changes after the snapshot; the restore must show the snapshot's content.
	writeFileT(t, filepath.Join(d.volumePath("pvc-src"), "a.txt"), []byte("changed"), 0o640)

	req := createReq("pvc-restored", 8*mib, 0)
	req.VolumeContentSource = &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{
		Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: s.GetSnapshotId()}}}
	cv, err := d.CreateVolume(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if cv.GetVolume().GetContentSource().GetSnapshot().GetSnapshotId() != s.GetSnapshotId() {
		t.Fatalf("content source not returned: %v", cv)
	}
	got := snapshotTree(t, d.volumePath("pvc-restored"))
	if !reflect.DeepEqual(got, want) {
		for k := range want {
			if !reflect.DeepEqual(got[k], want[k]) {
				t.Errorf("%s: restored %+v, want %+v", k, got[k], want[k])
			}
		}
		t.Fatalf("restored tree differs (%d entries, want %d)", len(got), len(want))
	}
	if os.Geteuid() != 0 {
		t.Log("not root: owners (uid/gid) were not compared")
	}

	req.Name = "pvc-from-missing"
	req.VolumeContentSource.GetSnapshot().SnapshotId = "snap-missing"
	_, err = d.CreateVolume(ctx, req)
	wantCode(t, err, codes.NotFound)
}

func TestCloneVolume(t *testing.T) {
	d, _ := newTestDriver(t)
	mustCreate(t, d, "pvc-src", 8*mib)
	fillTree(t, d.volumePath("pvc-src"))
	want := snapshotTree(t, d.volumePath("pvc-src"))
	req := createReq("pvc-clone", 8*mib, 0)
	req.VolumeContentSource = &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Volume{
		Volume: &csi.VolumeContentSource_VolumeSource{VolumeId: "pvc-src"}}}
	resp, err := d.CreateVolume(ctx, req)
	if err != nil || resp.GetVolume().GetContentSource().GetVolume().GetVolumeId() != "pvc-src" {
		t.Fatalf("clone: %v %v", resp, err)
	}
	if got := snapshotTree(t, d.volumePath("pvc-clone")); !reflect.DeepEqual(got, want) {
		t.Fatalf("clone differs:\n%v\n%v", got, want)
	}
}

func TestRestoreTooSmallFailsAndCleansUp(t *testing.T) {
	d, fm := newTestDriver(t)
	mustCreate(t, d, "pvc-src", 8*mib)
	writeFileT(t, filepath.Join(d.volumePath("pvc-src"), "data"), bytes.Repeat([]byte("x"), int(3*mib)), 0o644)
	resp, err := d.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: "snap", SourceVolumeId: "pvc-src"})
	if err != nil {
		t.Fatal(err)
	}
	req := createReq("pvc-small", 2*mib, 0)
	req.VolumeContentSource = &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{
		Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: resp.GetSnapshot().GetSnapshotId()}}}
	_, err = d.CreateVolume(ctx, req)
	wantCode(t, err, codes.OutOfRange)
	if !strings.Contains(err.Error(), "3145728") || !strings.Contains(err.Error(), "2097152") {
		t.Fatalf("error does not name the sizes: %v", err)
	}
	if _, ok := fm.get(d.volumePath("pvc-small")); ok {
		t.Fatal("mount left behind")
	}
	for _, p := range []string{d.volumePath("pvc-small"), d.volumeMetaPath("pvc-small")} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Fatalf("%s left behind (%v)", p, err)
		}
	}
	// The name is free again: a large enough volume restores.
	req.CapacityRange.RequiredBytes = 4 * mib
	if _, err := d.CreateVolume(ctx, req); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(d.volumePath("pvc-small"), "data"))
	if err != nil || len(b) != int(3*mib) {
		t.Fatalf("restored %d bytes, %v", len(b), err)
	}
}

func TestExpandVolume(t *testing.T) {
	d, fm := newTestDriver(t)
	mustCreate(t, d, "pvc-e", 10*mib)
	resp, err := d.ControllerExpandVolume(ctx, &csi.ControllerExpandVolumeRequest{VolumeId: "pvc-e",
		CapacityRange: &csi.CapacityRange{RequiredBytes: 20*mib + 1}})
	if err != nil || resp.GetCapacityBytes() != 21*mib || resp.GetNodeExpansionRequired() {
		t.Fatalf("expand: %v %v", resp, err)
	}
	if m, _ := fm.get(d.volumePath("pvc-e")); m.size != 21*mib {
		t.Fatalf("tmpfs not remounted: size %d", m.size)
	}
	// Persisted: a driver restarted on the same state dir (mounts still there) sees the new capacity.
	d2, err := NewDriver("node-1", d.stateDir, fm)
	if err != nil {
		t.Fatal(err)
	}
	if got := d2.volumes["pvc-e"].CapacityBytes; got != 21*mib {
		t.Fatalf("persisted capacity %d", got)
	}
	// Shrinking is a no-op that reports the current size.
	resp, err = d.ControllerExpandVolume(ctx, &csi.ControllerExpandVolumeRequest{VolumeId: "pvc-e",
		CapacityRange: &csi.CapacityRange{RequiredBytes: 5 * mib}})
	if err != nil || resp.GetCapacityBytes() != 21*mib {
		t.Fatalf("shrink: %v %v", resp, err)
	}
	if m, _ := fm.get(d.volumePath("pvc-e")); m.size != 21*mib {
		t.Fatalf("shrink changed the tmpfs: %d", m.size)
	}
	_, err = d.ControllerExpandVolume(ctx, &csi.ControllerExpandVolumeRequest{VolumeId: "pvc-e",
		CapacityRange: &csi.CapacityRange{RequiredBytes: 30 * mib, LimitBytes: 25 * mib}})
	wantCode(t, err, codes.OutOfRange)
	_, err = d.ControllerExpandVolume(ctx, &csi.ControllerExpandVolumeRequest{VolumeId: "pvc-nope",
		CapacityRange: &csi.CapacityRange{RequiredBytes: 30 * mib}})
	wantCode(t, err, codes.NotFound)
}

func TestDeleteIdempotent(t *testing.T) {
	d, fm := newTestDriver(t)
	mustCreate(t, d, "pvc-d", mib)
	writeFileT(t, filepath.Join(d.volumePath("pvc-d"), "f"), []byte("x"), 0o644)
	snap, err := d.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: "s", SourceVolumeId: "pvc-d"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := d.DeleteVolume(ctx, &csi.DeleteVolumeRequest{VolumeId: "pvc-d"}); err != nil {
			t.Fatalf("DeleteVolume #%d: %v", i+1, err)
		}
	}
	if _, ok := fm.get(d.volumePath("pvc-d")); ok {
		t.Fatal("still mounted")
	}
	for _, p := range []string{d.volumePath("pvc-d"), d.volumeMetaPath("pvc-d")} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Fatalf("%s still there", p)
		}
	}
	// The snapshot outlives its source volume.
	id := snap.GetSnapshot().GetSnapshotId()
	if _, err := os.Stat(d.snapshotArchivePath(id)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := d.DeleteSnapshot(ctx, &csi.DeleteSnapshotRequest{SnapshotId: id}); err != nil {
			t.Fatalf("DeleteSnapshot #%d: %v", i+1, err)
		}
	}
	for _, p := range []string{d.snapshotArchivePath(id), d.snapshotMetaPath(id)} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Fatalf("%s still there", p)
		}
	}
	_, err = d.DeleteVolume(ctx, &csi.DeleteVolumeRequest{})
	wantCode(t, err, codes.InvalidArgument)
}

func TestListSnapshots(t *testing.T) {
	d, _ := newTestDriver(t)
	mustCreate(t, d, "vol-a", mib)
	mustCreate(t, d, "vol-b", mib)
	ids := map[string]string{}
	for name, src := range map[string]string{"s1": "vol-a", "s2": "vol-a", "s3": "vol-b"} {
		r, err := d.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: name, SourceVolumeId: src})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = r.GetSnapshot().GetSnapshotId()
	}
	list := func(req *csi.ListSnapshotsRequest) (got []string, next string) {
		t.Helper()
		resp, err := d.ListSnapshots(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range resp.GetEntries() {
			got = append(got, e.GetSnapshot().GetSnapshotId())
		}
		return got, resp.GetNextToken()
	}
	if got, _ := list(&csi.ListSnapshotsRequest{}); len(got) != 3 {
		t.Fatalf("all: %v", got)
	}
	if got, _ := list(&csi.ListSnapshotsRequest{SourceVolumeId: "vol-a"}); len(got) != 2 || strings.Contains(strings.Join(got, ","), ids["s3"]) {
		t.Fatalf("by source: %v", got)
	}
	if got, _ := list(&csi.ListSnapshotsRequest{SnapshotId: ids["s3"]}); len(got) != 1 || got[0] != ids["s3"] {
		t.Fatalf("by id: %v", got)
	}
	if got, _ := list(&csi.ListSnapshotsRequest{SnapshotId: ids["s3"], SourceVolumeId: "vol-a"}); len(got) != 0 {
		t.Fatalf("by id and other source: %v", got)
	}
	if got, _ := list(&csi.ListSnapshotsRequest{SnapshotId: "snap-unknown"}); len(got) != 0 {
		t.Fatalf("unknown: %v", got)
	}
	page1, next := list(&csi.ListSnapshotsRequest{MaxEntries: 2})
	if len(page1) != 2 || next == "" {
		t.Fatalf("page 1: %v %q", page1, next)
	}
	page2, next2 := list(&csi.ListSnapshotsRequest{MaxEntries: 2, StartingToken: next})
	if len(page2) != 1 || next2 != "" || page2[0] == page1[0] || page2[0] == page1[1] {
		t.Fatalf("page 2: %v %q after %v", page2, next2, page1)
	}
	_, err := d.ListSnapshots(ctx, &csi.ListSnapshotsRequest{StartingToken: "bogus"})
	wantCode(t, err, codes.Aborted)
}
