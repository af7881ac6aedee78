// node_test.go: the Node service and the start-up recovery against the fake mounter.

package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
)

func publishReq(vol, target string, readOnly bool) *csi.NodePublishVolumeRequest {
	return &csi.NodePublishVolumeRequest{VolumeId: vol, TargetPath: target, Readonly: readOnly,
		VolumeCapability: mountCap(csi.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER)}
}

func TestNodePublishUnpublishIdempotent(t *testing.T) {
	d, fm := newTestDriver(t)
	mustCreate(t, d, "pvc-n", 4*mib)
	pods := t.TempDir()
	target := filepath.Join(pods, "uid-1", "volumes", "kubernetes.io~csi", "pvc-n", "mount")
	for i := 0; i < 2; i++ { // the fake refuses a second mount on one path: the second call must see the first
		if _, err := d.NodePublishVolume(ctx, publishReq("pvc-n", target, false)); err != nil {
			t.Fatalf("publish #%d: %v", i+1, err)
		}
	}
	m, ok := fm.get(target)
	if !ok || m.tmpfs || m.source != d.volumePath("pvc-n") || m.readOnly {
		t.Fatalf("bind mount %+v %v", m, ok)
	}
	if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o750 {
		t.Fatalf("target dir: %v %v", fi, err)
	}

	// Stats follow the bind mount to the tmpfs.
	writeFileT(t, filepath.Join(d.volumePath("pvc-n"), "f"), make([]byte, 1000), 0o644)
	st, err := d.NodeGetVolumeStats(ctx, &csi.NodeGetVolumeStatsRequest{VolumeId: "pvc-n", VolumePath: target})
	if err != nil {
		t.Fatal(err)
	}
	bytes := st.GetUsage()[0]
	if bytes.GetUnit() != csi.VolumeUsage_BYTES || bytes.GetTotal() != 4*mib || bytes.GetUsed() != 1000 || bytes.GetAvailable() != 4*mib-1000 {
		t.Fatalf("stats %v", st)
	}
	if st.GetUsage()[1].GetUnit() != csi.VolumeUsage_INODES {
		t.Fatalf("no inode stats: %v", st)
	}

	roTarget := filepath.Join(pods, "uid-2", "mount")
	if _, err := d.NodePublishVolume(ctx, publishReq("pvc-n", roTarget, true)); err != nil {
		t.Fatal(err)
	}
	if m, _ := fm.get(roTarget); !m.readOnly {
		t.Fatal("read-only publish mounted read-write")
	}

	for i := 0; i < 2; i++ {
		if _, err := d.NodeUnpublishVolume(ctx, &csi.NodeUnpublishVolumeRequest{VolumeId: "pvc-n", TargetPath: target}); err != nil {
			t.Fatalf("unpublish #%d: %v", i+1, err)
		}
	}
	if _, ok := fm.get(target); ok {
		t.Fatal("still mounted")
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Fatalf("target dir left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(d.volumePath("pvc-n"), "f")); err != nil {
		t.Fatalf("unpublish touched the volume's data: %v", err)
	}
	_, err = d.NodeGetVolumeStats(ctx, &csi.NodeGetVolumeStatsRequest{VolumeId: "pvc-n", VolumePath: target})
	wantCode(t, err, codes.NotFound)

	_, err = d.NodePublishVolume(ctx, publishReq("pvc-unknown", filepath.Join(pods, "x"), false))
	wantCode(t, err, codes.NotFound)
	block := publishReq("pvc-n", filepath.Join(pods, "y"), false)
	block.VolumeCapability.AccessType = &csi.VolumeCapability_Block{Block: &csi.VolumeCapability_BlockVolume{}}
	_, err = d.NodePublishVolume(ctx, block)
	wantCode(t, err, codes.InvalidArgument)
	_, err = d.NodePublishVolume(ctx, publishReq("pvc-n", "", false))
	wantCode(t, err, codes.InvalidArgument)

	info, err := d.NodeGetInfo(ctx, &csi.NodeGetInfoRequest{})
	if err != nil || info.GetNodeId() != "node-1" || info.GetMaxVolumesPerNode() != 0 || info.GetAccessibleTopology() != nil {
		t.Fatalf("NodeGetInfo %v %v", info, err)
	}
	exp, err := d.NodeExpandVolume(ctx, &csi.NodeExpandVolumeRequest{VolumeId: "pvc-n", VolumePath: roTarget})
	if err != nil || exp.GetCapacityBytes() != 4*mib {
		t.Fatalf("NodeExpandVolume %v %v", exp, err)
	}
}

func TestStartupRecoversMissingMounts(t *testing.T) {
	d, fm := newTestDriver(t)
	mustCreate(t, d, "pvc-r1", 3*mib)
	mustCreate(t, d, "pvc-r2", 5*mib)
	if _, err := d.ControllerExpandVolume(ctx, &csi.ControllerExpandVolumeRequest{VolumeId: "pvc-r2",
		CapacityRange: &csi.CapacityRange{RequiredBytes: 7 * mib}}); err != nil {
		t.Fatal(err)
	}
	writeFileT(t, d.volumeMetaPath("pvc-r1")+".tmp", []byte("half-written"), 0o644)

	// The node restarted: no tmpfs is mounted any more, except pvc-r1's (as if the driver container restarted).
	fresh := newFakeMounter()
	if err := fresh.MountTmpfs(d.volumePath("pvc-r1"), 3*mib); err != nil {
		t.Fatal(err)
	}
	d2, err := NewDriver("node-1", d.stateDir, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := fresh.get(d.volumePath("pvc-r2")); !ok || !m.tmpfs || m.size != 7*mib {
		t.Fatalf("pvc-r2 not re-mounted at its expanded size: %+v %v", m, ok)
	}
	if len(d2.volumes) != 2 || len(fresh.mounts) != 2 {
		t.Fatalf("volumes %v mounts %v", d2.volumes, fresh.mounts)
	}
	if _, err := os.Lstat(d.volumeMetaPath("pvc-r1") + ".tmp"); !os.IsNotExist(err) {
		t.Fatal("leftover temporary file not removed")
	}
	_ = fm
}
