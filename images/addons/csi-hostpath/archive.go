// archive.go: copies a volume's directory tree into a tar stream and back (snapshots, restores, clones),
// keeping modes, owners, mtimes, directories and symlinks, in Go (the image has no tar binary).

package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// writeTar writes the tree under root to w (PAX format, so mtimes keep their nanoseconds) and returns
// the total size of its regular files. The root itself is the entry "./". Hard links are stored as
// separate files; sockets, FIFOs and devices are skipped with a log line.
func writeTar(root string, w io.Writer) (int64, error) {
	tw := tar.NewWriter(w)
	var regular int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			err = walkEntry(tw, root, p, d, &regular)
		}
		if errors.Is(err, fs.ErrNotExist) && p != root { // deleted while the volume was being archived
			log.Printf("archive: %s vanished, skipped", p)
			err = nil
		}
		return err
	})
	if err != nil {
		return regular, err
	}
	return regular, tw.Close()
}

// walkEntry archives one file of a live volume. A file that grows is archived at the size it had when
// its header was written, one that shrinks is padded with zeros (as GNU tar does): the snapshot is
// crash-consistent per file, not frozen, and it does not fail because the application is writing.
func walkEntry(tw *tar.Writer, root, p string, d fs.DirEntry, regular *int64) error {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return err
	}
	fi, err := d.Info()
	if err != nil {
		return err
	}
	link := ""
	switch mode := fi.Mode(); {
	case mode&fs.ModeSymlink != 0:
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	case mode.IsRegular(), mode.IsDir():
	default:
		log.Printf("archive: skipping %s (type %v)", p, mode.Type())
		return nil
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return err
	}
	hdr.Name = filepath.ToSlash(rel)
	if fi.IsDir() {
		hdr.Name += "/"
	}
	hdr.Format = tar.FormatPAX
	hdr.Uname, hdr.Gname = "", "" // numeric ids only: the image has no /etc/passwd
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	if !fi.Mode().IsRegular() {
		return tw.WriteHeader(hdr)
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.CopyN(tw, f, hdr.Size)
	if errors.Is(err, io.EOF) {
		log.Printf("archive: %s shrank while being archived (%d of %d bytes), padded", p, n, hdr.Size)
		_, err = io.CopyN(tw, zeros{}, hdr.Size-n)
	}
	*regular += hdr.Size
	return err
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// extractTar recreates under the existing directory root the tree of a stream written by writeTar.
// Owners are restored only when running as root (the driver always is). An entry may only be created in
// a directory the stream created before it (or root), so nothing can be written through a symlink or
// outside root. It returns the total size of the regular files written.
func extractTar(r io.Reader, root string) (int64, error) {
	tr := tar.NewReader(r)
	asRoot := os.Geteuid() == 0
	dirs := map[string]bool{".": true}
	var dirHeaders []*tar.Header // mode and mtime applied at the end, deepest first
	var regular int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return regular, err
		}
		name := path.Clean(hdr.Name)
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return regular, fmt.Errorf("unsafe path %q in archive", hdr.Name)
		}
		if name != "." && !dirs[path.Dir(name)] {
			return regular, fmt.Errorf("archive entry %q comes before its directory", hdr.Name)
		}
		target := filepath.Join(root, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if name != "." {
				if err := os.Mkdir(target, 0o700); err != nil {
					return regular, err
				}
			}
			dirs[name] = true
			dirHeaders = append(dirHeaders, hdr)
			continue // owner, mode and mtime below, after the directory's contents
		case tar.TypeReg:
			n, err := writeFile(target, tr)
			regular += n
			if err != nil {
				return regular, err
			}
		case tar.TypeSymlink:
			if err := os.Symlink(hdr.Linkname, target); err != nil {
				return regular, err
			}
		default:
			log.Printf("restore: skipping %s (tar type %q)", hdr.Name, hdr.Typeflag)
			continue
		}
		if err := applyAttrs(target, hdr, asRoot); err != nil {
			return regular, err
		}
	}
	for i := len(dirHeaders) - 1; i >= 0; i-- {
		hdr := dirHeaders[i]
		if err := applyAttrs(filepath.Join(root, filepath.FromSlash(path.Clean(hdr.Name))), hdr, asRoot); err != nil {
			return regular, err
		}
	}
	return regular, nil
}

func writeFile(target string, r io.Reader) (int64, error) {
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// applyAttrs sets owner (chown first: it clears setuid/setgid bits), then mode, then mtime.
func applyAttrs(target string, hdr *tar.Header, asRoot bool) error {
	if asRoot {
		if err := os.Lchown(target, hdr.Uid, hdr.Gid); err != nil {
			return err
		}
	}
	if hdr.Typeflag != tar.TypeSymlink { // Linux has no symlink modes
		if err := unix.Chmod(target, uint32(hdr.Mode&0o7777)); err != nil {
			return fmt.Errorf("chmod %s: %w", target, err)
		}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(hdr.ModTime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, target, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set mtime of %s: %w", target, err)
	}
	return nil
}

// treeSize is the total size of the regular files under root (what a restore or clone must fit).
func treeSize(root string) (int64, error) {
	var total int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			total += fi.Size()
		}
		return err
	})
	return total, err
}
