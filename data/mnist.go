package data

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
)

// FashionMNISTClasses names the ten Fashion-MNIST classes, label order.
var FashionMNISTClasses = []string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// LoadIDXDataset reads a pair of IDX files, images (magic 0x00000803,
// dims N×H×W) and labels (magic 0x00000801, dims N), into a Dataset of
// shape (1, H, W) with pixels scaled to [0, 1]. Every label must be below
// classes.
func LoadIDXDataset(imagesPath, labelsPath string, classes int) (*Dataset, error) {
	im, err := ReadIDXFile(imagesPath)
	if err != nil {
		return nil, err
	}
	if len(im.Dims) != 3 {
		return nil, fmt.Errorf("data: IDX file %s: magic 0x%08x, %d dimensions %v: want images, magic 0x%08x (N×H×W)", imagesPath, im.Magic(), len(im.Dims), im.Dims, IDXImagesMagic)
	}
	if im.Dims[1] == 0 || im.Dims[2] == 0 {
		return nil, fmt.Errorf("data: IDX file %s: image size %d×%d", imagesPath, im.Dims[1], im.Dims[2])
	}
	lb, err := ReadIDXFile(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(lb.Dims) != 1 {
		return nil, fmt.Errorf("data: IDX file %s: magic 0x%08x, %d dimensions %v: want labels, magic 0x%08x (N)", labelsPath, lb.Magic(), len(lb.Dims), lb.Dims, IDXLabelsMagic)
	}
	n := im.Dims[0]
	if lb.Dims[0] != n {
		return nil, fmt.Errorf("data: %d labels in %s but %d images in %s", lb.Dims[0], labelsPath, n, imagesPath)
	}
	if n == 0 {
		return nil, fmt.Errorf("data: IDX file %s holds no images", imagesPath)
	}
	d := &Dataset{
		X:       bytesToUnit(im.Data),
		Shape:   []int{1, im.Dims[1], im.Dims[2]},
		Labels:  make([]int, n),
		Classes: classes,
	}
	for i, l := range lb.Data {
		if int(l) >= classes {
			return nil, fmt.Errorf("data: IDX file %s: label %d of example %d out of range [0, %d)", labelsPath, l, i, classes)
		}
		d.Labels[i] = int(l)
	}
	return d, nil
}

// unitTable maps a byte b to b/255.
var unitTable = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// bytesToUnit maps bytes to float32 values in [0, 1] (b/255), in parallel
// for large inputs.
func bytesToUnit(b []byte) []float32 {
	x := make([]float32, len(b))
	conv := func(lo, hi int) {
		for i, v := range b[lo:hi] {
			x[lo+i] = unitTable[v]
		}
	}
	const chunk = 1 << 20
	workers := min(runtime.GOMAXPROCS(0), (len(b)+chunk-1)/chunk)
	if workers <= 1 {
		conv(0, len(b))
		return x
	}
	var wg sync.WaitGroup
	per := (len(b) + workers - 1) / workers
	for lo := 0; lo < len(b); lo += per {
		wg.Go(func() { conv(lo, min(lo+per, len(b))) })
	}
	wg.Wait()
	return x
}

// LoadMNIST loads the MNIST training (60000) and test (10000) sets, images
// of shape (1, 28, 28) with pixels in [0, 1] and labels 0…9, from dir or,
// when dir is empty, from the place MNISTDir finds.
func LoadMNIST(dir string) (train, test *Dataset, err error) {
	dir, err = MNISTDir(dir)
	if err != nil {
		return nil, nil, err
	}
	return loadMNISTLike(dir, "MNIST", nil, 28)
}

// LoadFashionMNIST loads the Fashion-MNIST training and test sets, in the
// layout and format of MNIST, from dir or, when dir is empty, from the
// place FashionMNISTDir finds.
func LoadFashionMNIST(dir string) (train, test *Dataset, err error) {
	dir, err = FashionMNISTDir(dir)
	if err != nil {
		return nil, nil, err
	}
	return loadMNISTLike(dir, "Fashion-MNIST", FashionMNISTClasses, 28)
}

// loadMNISTLike loads the four IDX files of dir, the training and the
// test set concurrently, checking the image size.
func loadMNISTLike(dir, name string, classNames []string, size int) (train, test *Dataset, err error) {
	var sets [2]*Dataset
	var errs [2]error
	var wg sync.WaitGroup
	for k, split := range []string{"train", "t10k"} {
		wg.Go(func() {
			sets[k], errs[k] = loadMNISTSplit(dir, split, size)
			if errs[k] == nil {
				sets[k].Name = name + " " + []string{"train", "test"}[k]
				sets[k].ClassNames = slices.Clone(classNames)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	return sets[0], sets[1], nil
}

func loadMNISTSplit(dir, split string, size int) (*Dataset, error) {
	ip, err := findIDX(dir, split+"-images-idx3-ubyte.gz")
	if err != nil {
		return nil, err
	}
	lp, err := findIDX(dir, split+"-labels-idx1-ubyte.gz")
	if err != nil {
		return nil, err
	}
	d, err := LoadIDXDataset(ip, lp, 10)
	if err != nil {
		return nil, err
	}
	if d.Shape[1] != size || d.Shape[2] != size {
		return nil, fmt.Errorf("data: %s: images of %d×%d, want %d×%d", ip, d.Shape[1], d.Shape[2], size, size)
	}
	return d, nil
}
