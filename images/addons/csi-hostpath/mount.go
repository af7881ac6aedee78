// mount.go: the Mounter interface, so the controller and node logic can be tested without root.

package main

// VolumeStats is what statfs(2) reports for a mounted volume.
type VolumeStats struct {
	TotalBytes, UsedBytes, AvailableBytes int64
	TotalInodes, UsedInodes, FreeInodes   int64
}

// Mounter performs the few mount operations the driver needs. The real implementation is
// realMounter (mount_linux.go); the tests use a fake that records mounts and uses plain directories.
type Mounter interface {
	// MountTmpfs mounts a fresh tmpfs of sizeBytes (mode 0777) on the existing directory target.
	MountTmpfs(target string, sizeBytes int64) error
	// ResizeTmpfs remounts the tmpfs on target with a new size; its data and bind mounts stay.
	ResizeTmpfs(target string, sizeBytes int64) error
	// BindMount bind-mounts source onto the existing directory target, read-only if asked.
	BindMount(source, target string, readOnly bool) error
	// Unmount unmounts target (lazily if it is busy).
	Unmount(target string) error
	// IsMountPoint tells whether path is a mount point in this mount namespace.
	IsMountPoint(path string) (bool, error)
	// Statfs reports the size and usage of the file system mounted at path.
	Statfs(path string) (VolumeStats, error)
}
