// archive_test.go: archiving files that change under a live application, and refusing unsafe archives.

package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func dirEntry(t *testing.T, dir, name string) fs.DirEntry {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == name {
			return e
		}
	}
	t.Fatalf("%s not in %s", name, dir)
	return nil
}

func TestArchiveFilesChangingUnderfoot(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("abcdefghij"), 10)
	for _, n := range []string{"shrinks", "grows", "vanishes"} {
		writeFileT(t, filepath.Join(dir, n), data, 0o644)
	}
	// The walk has listed the directory; then the application changes the files.
	shrinks, grows, vanishes := dirEntry(t, dir, "shrinks"), dirEntry(t, dir, "grows"), dirEntry(t, dir, "vanishes")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var regular int64
	if err := os.Remove(filepath.Join(dir, "vanishes")); err != nil {
		t.Fatal(err)
	}
	if err := walkEntry(tw, dir, filepath.Join(dir, "vanishes"), vanishes, &regular); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("vanished file: %v, want ErrNotExist (which writeTar skips)", err)
	}
	// shrinks: header from the listing (100 bytes), then truncated to 10 before its contents are read.
	fi, _ := shrinks.Info()
	if err := os.Truncate(filepath.Join(dir, "shrinks"), 10); err != nil {
		t.Fatal(err)
	}
	if err := walkEntry(tw, dir, filepath.Join(dir, "shrinks"), &staleEntry{shrinks, fi}, &regular); err != nil {
		t.Fatal(err)
	}
	fi, _ = grows.Info()
	f, _ := os.OpenFile(filepath.Join(dir, "grows"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte("more"))
	f.Close()
	if err := walkEntry(tw, dir, filepath.Join(dir, "grows"), &staleEntry{grows, fi}, &regular); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if regular != 200 {
		t.Fatalf("regular bytes %d, want 200", regular)
	}
	tr := tar.NewReader(&buf)
	for _, want := range []string{string(data[:10]) + strings.Repeat("\x00", 90), string(data)} {
		if _, err := tr.Next(); err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(tr)
		if string(got) != want {
			t.Fatalf("archived %q, want %q", got, want)
		}
	}
}

// staleEntry answers Info with what the directory listing saw, before the file changed.
type staleEntry struct {
	fs.DirEntry
	fi fs.FileInfo
}

func (s *staleEntry) Info() (fs.FileInfo, error) { return s.fi, nil }

func TestExtractRefusesUnsafeEntries(t *testing.T) {
	for name, entries := range map[string][]tar.Header{
		"parent":          {{Name: "../evil", Typeflag: tar.TypeReg, Mode: 0o644}},
		"absolute":        {{Name: "/etc/evil", Typeflag: tar.TypeReg, Mode: 0o644}},
		"through symlink": {{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/tmp"}, {Name: "link/evil", Typeflag: tar.TypeReg, Mode: 0o644}},
		"no parent dir":   {{Name: "a/b", Typeflag: tar.TypeReg, Mode: 0o644}},
	} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, h := range entries {
			if err := tw.WriteHeader(&h); err != nil {
				t.Fatal(err)
			}
		}
		tw.Close()
		root := t.TempDir()
		if _, err := extractTar(&buf, root); err == nil {
			t.Errorf("%s: extracted", name)
		}
		if _, err := os.Lstat(filepath.Join(filepath.Dir(root), "evil")); err == nil {
			t.Errorf("%s: wrote outside the root", name)
		}
	}
}
