// fake_test.go: a fake Mounter (plain directories, recorded sizes) and helpers shared by the tests.

package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type fakeMount struct {
	tmpfs    bool
	size     int64  // tmpfs only
	source   string // bind only
	readOnly bool
}

// fakeMounter is stricter than mount(2) where that catches bugs: it refuses to mount twice on one path
// and to unmount what is not mounted.
type fakeMounter struct {
	mu     sync.Mutex
	mounts map[string]fakeMount
}

func newFakeMounter() *fakeMounter { return &fakeMounter{mounts: map[string]fakeMount{}} }

func (f *fakeMounter) mount(target string, m fakeMount) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fi, err := os.Stat(target); err != nil || !fi.IsDir() {
		return fmt.Errorf("fake mount: %s is not a directory (%v)", target, err)
	}
	if _, ok := f.mounts[target]; ok {
		return fmt.Errorf("fake mount: %s is already mounted", target)
	}
	f.mounts[target] = m
	return nil
}

func (f *fakeMounter) MountTmpfs(target string, size int64) error {
	return f.mount(target, fakeMount{tmpfs: true, size: size})
}

func (f *fakeMounter) BindMount(source, target string, readOnly bool) error {
	return f.mount(target, fakeMount{source: source, readOnly: readOnly})
}

func (f *fakeMounter) ResizeTmpfs(target string, size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.mounts[target]
	if !ok || !m.tmpfs {
		return fmt.Errorf("fake resize: no tmpfs on %s", target)
	}
	m.size = size
	f.mounts[target] = m
	return nil
}

func (f *fakeMounter) Unmount(target string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.mounts[target]; !ok {
		return fmt.Errorf("fake unmount: %s is not mounted", target)
	}
	delete(f.mounts, target)
	return nil
}

func (f *fakeMounter) IsMountPoint(p string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.mounts[p]
	return ok, nil
}

func (f *fakeMounter) get(p string) (fakeMount, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.mounts[p]
	return m, ok
}

// Statfs reports the recorded tmpfs size (following a bind mount to its source) and the files' bytes.
func (f *fakeMounter) Statfs(p string) (VolumeStats, error) {
	m, ok := f.get(p)
	if ok && !m.tmpfs {
		p = m.source // a bind mount shows its source's files
		m, ok = f.get(p)
	}
	if !ok {
		return VolumeStats{}, fmt.Errorf("fake statfs: nothing mounted on %s", p)
	}
	used, err := treeSize(p)
	return VolumeStats{TotalBytes: m.size, UsedBytes: used, AvailableBytes: m.size - used,
		TotalInodes: 1000, UsedInodes: 1, FreeInodes: 999}, err
}

// --- helpers ---

func newTestDriver(t *testing.T) (*Driver, *fakeMounter) {
	t.Helper()
	fm := newFakeMounter()
	state := t.TempDir()
	// Runs before t.TempDir's removal: restored read-only directories (0555) would stop it without root.
	t.Cleanup(func() {
		_ = filepath.WalkDir(state, func(p string, de fs.DirEntry, err error) error {
			if err == nil && de.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	d, err := NewDriver("node-1", state, fm)
	if err != nil {
		t.Fatal(err)
	}
	return d, fm
}

func mountCap(mode csi.VolumeCapability_AccessMode_Mode) *csi.VolumeCapability {
	return &csi.VolumeCapability{
		AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{}},
		AccessMode: &csi.VolumeCapability_AccessMode{Mode: mode},
	}
}

var rwo = mountCap(csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER)

func createReq(name string, required, limit int64) *csi.CreateVolumeRequest {
	return &csi.CreateVolumeRequest{Name: name, VolumeCapabilities: []*csi.VolumeCapability{rwo},
		CapacityRange: &csi.CapacityRange{RequiredBytes: required, LimitBytes: limit}}
}

func mustCreate(t *testing.T, d *Driver, name string, size int64) *csi.Volume {
	t.Helper()
	resp, err := d.CreateVolume(context.Background(), createReq(name, size, 0))
	if err != nil {
		t.Fatalf("CreateVolume %s: %v", name, err)
	}
	return resp.GetVolume()
}

func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("got code %v (%v), want %v", got, err, want)
	}
}

func writeFileT(t *testing.T, p string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
}
