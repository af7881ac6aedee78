// mount_linux.go: the real Mounter, with mount(2), umount(2), statfs(2) and /proc/self/mountinfo.

package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// tmpfsFlags are used for the first mount and repeated on every remount: a remount without
// MS_BIND resets the mount point's own flags to the ones given.
const tmpfsFlags = unix.MS_NOSUID | unix.MS_NODEV

type realMounter struct {
	mountinfo string // /proc/self/mountinfo; a field so a test can point elsewhere
}

func newRealMounter() *realMounter { return &realMounter{mountinfo: "/proc/self/mountinfo"} }

func (m *realMounter) MountTmpfs(target string, sizeBytes int64) error {
	data := fmt.Sprintf("size=%d,mode=0777", sizeBytes)
	if err := unix.Mount("tmpfs", target, "tmpfs", tmpfsFlags, data); err != nil {
		return fmt.Errorf("mount tmpfs %s (%s): %w", target, data, err)
	}
	return nil
}

func (m *realMounter) ResizeTmpfs(target string, sizeBytes int64) error {
	data := fmt.Sprintf("size=%d", sizeBytes)
	if err := unix.Mount("tmpfs", target, "tmpfs", unix.MS_REMOUNT|tmpfsFlags, data); err != nil {
		return fmt.Errorf("remount tmpfs %s (%s): %w", target, data, err)
	}
	return nil
}

func (m *realMounter) BindMount(source, target string, readOnly bool) error {
	if err := unix.Mount(source, target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind mount %s on %s: %w", source, target, err)
	}
	if readOnly {
		// A bind mount only becomes read-only through a second, remounting call.
		flags := uintptr(unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY | tmpfsFlags)
		if err := unix.Mount("", target, "", flags, ""); err != nil {
			_ = unix.Unmount(target, 0)
			return fmt.Errorf("remount %s read-only: %w", target, err)
		}
	}
	return nil
}

func (m *realMounter) Unmount(target string) error {
	err := unix.Unmount(target, 0)
	if errors.Is(err, unix.EBUSY) {
		err = unix.Unmount(target, unix.MNT_DETACH)
	}
	if err != nil {
		return fmt.Errorf("unmount %s: %w", target, err)
	}
	return nil
}

func (m *realMounter) IsMountPoint(path string) (bool, error) {
	p, err := filepath.EvalSymlinks(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	p = filepath.Clean(p)
	f, err := os.Open(m.mountinfo)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		// Fields: id parent major:minor root mount-point options ... (proc(5)).
		fields := strings.Fields(sc.Text())
		if len(fields) >= 5 && unescapeMountinfo(fields[4]) == p {
			return true, nil
		}
	}
	return false, sc.Err()
}

// unescapeMountinfo undoes the octal escapes (\040 for a space, ...) of a mountinfo path.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (m *realMounter) Statfs(path string) (VolumeStats, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return VolumeStats{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	bs := st.Bsize
	return VolumeStats{
		TotalBytes:     int64(st.Blocks) * bs,
		UsedBytes:      int64(st.Blocks-st.Bfree) * bs,
		AvailableBytes: int64(st.Bavail) * bs,
		TotalInodes:    int64(st.Files),
		UsedInodes:     int64(st.Files - st.Ffree),
		FreeInodes:     int64(st.Ffree),
	}, nil
}
