// mount_linux_test.go: the real mounter (real tmpfs, real ENOSPC) and the driver on it; these run only
// as root. The mountinfo parsing is tested without root.

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (mount(2))")
	}
}

// mountT mounts a tmpfs and unmounts it when the test ends (before t.TempDir is removed).
func mountT(t *testing.T, m *realMounter, dir string, size int64) {
	t.Helper()
	if err := m.MountTmpfs(dir, size); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("root without CAP_SYS_ADMIN: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for ok, _ := m.IsMountPoint(dir); ok; ok, _ = m.IsMountPoint(dir) {
			if err := m.Unmount(dir); err != nil {
				t.Error(err)
				return
			}
		}
	})
}

func writeBytes(p string, n int) error {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(make([]byte, n))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func TestRealTmpfsENOSPCAndResize(t *testing.T) {
	needRoot(t)
	m := newRealMounter()
	dir := t.TempDir()
	mountT(t, m, dir, mib)
	if ok, err := m.IsMountPoint(dir); !ok || err != nil {
		t.Fatalf("IsMountPoint after mount: %v %v", ok, err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o777 {
		t.Fatalf("tmpfs root mode %v, want 0777", fi.Mode().Perm())
	}
	if st, err := m.Statfs(dir); err != nil || st.TotalBytes != mib {
		t.Fatalf("statfs %+v %v, want 1 MiB", st, err)
	}
	err := writeBytes(filepath.Join(dir, "f"), int(2*mib))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("writing 2 MiB into 1 MiB: %v, want ENOSPC", err)
	}

	// A pod sees the volume through a bind mount; a remount of the tmpfs must show through it.
	pod := t.TempDir()
	if err := m.BindMount(dir, pod, false); err != nil {
		t.Fatal(err)
	}
	defer m.Unmount(pod)
	if err := m.ResizeTmpfs(dir, 4*mib); err != nil {
		t.Fatal(err)
	}
	if err := writeBytes(filepath.Join(pod, "f"), int(2*mib)); err != nil {
		t.Fatalf("writing 2 MiB after growing to 4 MiB: %v", err)
	}
	for _, p := range []string{dir, pod} {
		st, err := m.Statfs(p)
		if err != nil || st.TotalBytes != 4*mib || st.UsedBytes < 2*mib || st.AvailableBytes > 2*mib || st.TotalInodes == 0 {
			t.Fatalf("statfs %s after resize: %+v %v", p, st, err)
		}
	}
	if err := m.Unmount(pod); err != nil {
		t.Fatal(err)
	}

	ro := t.TempDir()
	if err := m.BindMount(dir, ro, true); err != nil {
		t.Fatal(err)
	}
	err = writeBytes(filepath.Join(ro, "g"), 1)
	if uerr := m.Unmount(ro); uerr != nil {
		t.Fatal(uerr)
	}
	if !errors.Is(err, syscall.EROFS) {
		t.Fatalf("write through a read-only bind mount: %v, want EROFS", err)
	}

	if err := m.Unmount(dir); err != nil {
		t.Fatal(err)
	}
	if ok, err := m.IsMountPoint(dir); ok || err != nil {
		t.Fatalf("IsMountPoint after unmount: %v %v", ok, err)
	}
}

// TestRealDriverRestoreENOSPC restores a snapshot whose files fit by their byte count but not in tmpfs
// pages: the extraction hits a real ENOSPC, and the half-made volume is cleaned up.
func TestRealDriverRestoreENOSPC(t *testing.T) {
	needRoot(t)
	probe := t.TempDir()
	mountT(t, newRealMounter(), probe, mib) // skips when mounting is not allowed
	d, err := NewDriver("node-1", t.TempDir(), newRealMounter())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for id := range d.volumes {
			if _, err := d.DeleteVolume(context.Background(), &csi.DeleteVolumeRequest{VolumeId: id}); err != nil {
				t.Error(err)
			}
		}
		// Whatever a failure left mounted, so t.TempDir's removal does not descend into a tmpfs.
		entries, _ := os.ReadDir(d.volumesDir())
		for _, e := range entries {
			p := d.volumePath(e.Name())
			if ok, _ := d.mounter.IsMountPoint(p); ok {
				t.Errorf("%s was left mounted", p)
				_ = d.mounter.Unmount(p)
			}
		}
	})
	mustCreate(t, d, "pvc-src", 4*mib)
	for i := 0; i < 400; i++ { // 400 x 100 bytes = 40 KB of data, but 400 pages (1.6 MiB) of tmpfs
		writeFileT(t, filepath.Join(d.volumePath("pvc-src"), fmt.Sprintf("f%03d", i)), make([]byte, 100), 0o644)
	}
	snap, err := d.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: "s", SourceVolumeId: "pvc-src"})
	if err != nil {
		t.Fatal(err)
	}
	req := createReq("pvc-small", mib, 0)
	req.VolumeContentSource = &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{
		Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: snap.GetSnapshot().GetSnapshotId()}}}
	_, err = d.CreateVolume(ctx, req)
	wantCode(t, err, codes.OutOfRange)
	if !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("error does not say ENOSPC: %v", err)
	}
	if ok, _ := d.mounter.IsMountPoint(d.volumePath("pvc-small")); ok {
		t.Fatal("tmpfs of the failed restore still mounted")
	}
	if _, err := os.Lstat(d.volumePath("pvc-small")); !os.IsNotExist(err) {
		t.Fatalf("directory of the failed restore left: %v", err)
	}

	// Grow the source online: the driver remounts and statfs sees it.
	if _, err := d.ControllerExpandVolume(ctx, &csi.ControllerExpandVolumeRequest{VolumeId: "pvc-src",
		CapacityRange: &csi.CapacityRange{RequiredBytes: 8 * mib}}); err != nil {
		t.Fatal(err)
	}
	if st, err := d.mounter.Statfs(d.volumePath("pvc-src")); err != nil || st.TotalBytes != 8*mib {
		t.Fatalf("statfs after expand %+v %v", st, err)
	}
}

func TestIsMountPointParsesMountinfo(t *testing.T) {
	dir := t.TempDir()
	spaced := filepath.Join(dir, "with space")
	if err := os.Mkdir(spaced, 0o755); err != nil {
		t.Fatal(err)
	}
	info := filepath.Join(dir, "mountinfo")
	line := fmt.Sprintf("42 27 0:39 / %s rw,relatime - tmpfs tmpfs rw,size=1024k\n", strings.ReplaceAll(spaced, " ", `\040`))
	writeFileT(t, info, []byte("22 1 0:20 / / rw - overlay overlay rw\n"+line), 0o644)
	m := &realMounter{mountinfo: info}
	for p, want := range map[string]bool{spaced: true, spaced + "/": true, dir: false, filepath.Join(dir, "missing"): false} {
		if got, err := m.IsMountPoint(p); got != want || err != nil {
			t.Errorf("IsMountPoint(%q) = %v, %v; want %v", p, got, err, want)
		}
	}
	if got := unescapeMountinfo(`/a\040b\134c\011`); got != "/a b\\c\t" {
		t.Errorf("unescape: %q", got)
	}
}
