package data

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// CIFAR10Classes names the ten CIFAR-10 classes in label order.
var CIFAR10Classes = []string{
	"airplane", "automobile", "bird", "cat", "deer",
	"dog", "frog", "horse", "ship", "truck",
}

// Sizes of the CIFAR-10 binary format: one label byte, then the 1024 red,
// the 1024 green and the 1024 blue values of a 32×32 image, row by row.
const (
	cifarSide    = 32
	cifarPixels  = 3 * cifarSide * cifarSide
	cifarRecord  = 1 + cifarPixels
	maxJPEGBytes = 4 << 20
)

// CIFAROptions configures LoadCIFAR10. The zero value loads everything
// with one JPEG decoder per CPU.
type CIFAROptions struct {
	// Limit, if positive, loads at most Limit examples of each split, for
	// quick runs: the first records of the binary batches in order, or an
	// equal number of images of each class of the JPEG archive.
	Limit int
	// Workers is the number of goroutines decoding JPEG images
	// (0: GOMAXPROCS).
	Workers int
}

// newCIFAR returns an empty CIFAR-10 data set.
func newCIFAR(name string) *Dataset {
	return &Dataset{
		Name:       name,
		Shape:      []int{3, cifarSide, cifarSide},
		Labels:     []int{},
		Classes:    10,
		ClassNames: slices.Clone(CIFAR10Classes),
	}
}

// ReadCIFAR10Binary reads records of the official CIFAR-10 binary format
// (a label byte 0…9 and 3072 pixel bytes, channel-major) until the end of
// r, or until limit records when limit > 0. The images have shape
// (3, 32, 32) with values in [0, 1].
func ReadCIFAR10Binary(r io.Reader, limit int) (*Dataset, error) {
	d := newCIFAR("CIFAR-10")
	pix, err := readCIFARRecords(r, limit, d)
	if err != nil {
		return nil, fmt.Errorf("data: CIFAR-10 binary: %w", err)
	}
	d.X = bytesToUnit(pix)
	return d, nil
}

// readCIFARRecords appends the labels of the records of r to d.Labels and
// returns their pixel bytes.
func readCIFARRecords(r io.Reader, limit int, d *Dataset) ([]byte, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var pix []byte
	var rec [cifarRecord]byte
	for i := 0; limit <= 0 || i < limit; i++ {
		n, err := io.ReadFull(br, rec[:])
		if err == io.EOF {
			if i == 0 {
				return nil, errors.New("no records (empty input)")
			}
			break
		}
		if err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("truncated record %d: %d of %d bytes (1 label + 3072 pixels)", i, n, cifarRecord)
		}
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		if rec[0] >= 10 {
			return nil, fmt.Errorf("record %d (byte offset %d): label %d out of range 0…9 (not a CIFAR-10 binary file?)", i, i*cifarRecord, rec[0])
		}
		d.Labels = append(d.Labels, int(rec[0]))
		pix = append(pix, rec[1:]...)
	}
	return pix, nil
}

// LoadCIFAR10 loads the CIFAR-10 training (50000) and test (10000) sets,
// images of shape (3, 32, 32) with values in [0, 1], from path, or from
// the place CIFAR10Path finds when path is empty. path may be
//   - a directory holding data_batch_1.bin … data_batch_5.bin and
//     test_batch.bin (directly or in cifar-10-batches-bin/);
//   - the official cifar-10-binary.tar.gz;
//   - a tar.gz of JPEG images train/<class>/<name>.jpg and
//     test/<class>/<name>.jpg, like cifar10-jpeg.tar.gz (the data sets are
//     then named "CIFAR-10 (JPEG copy)").
//
// The binary sets keep the order of the files. The JPEG sets interleave
// the classes: the first image of each class in class order, then the
// second of each class, and so on (by file name within a class), so any
// prefix is class-balanced.
func LoadCIFAR10(path string, opt CIFAROptions) (train, test *Dataset, err error) {
	path, err = CIFAR10Path(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("data: CIFAR-10: %w", err)
	}
	if st.IsDir() {
		return loadCIFARDir(path, opt.Limit)
	}
	return loadCIFARArchive(path, opt)
}

// cifarBatchNames are the binary batch files: five training, one test.
var cifarBatchNames = []string{
	"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
	"data_batch_4.bin", "data_batch_5.bin", "test_batch.bin",
}

// loadCIFARDir reads the binary batches of a directory.
func loadCIFARDir(dir string, limit int) (train, test *Dataset, err error) {
	if sub := filepath.Join(dir, CIFAR10BinDir); !isFile(filepath.Join(dir, cifarBatchNames[0])) && isDir(sub) {
		dir = sub
	}
	for _, name := range cifarBatchNames {
		if p := filepath.Join(dir, name); !isFile(p) {
			return nil, nil, fmt.Errorf("data: CIFAR-10 directory %s: %s not found (want %s)", dir, name, strings.Join(cifarBatchNames, ", "))
		}
	}
	train, test = newCIFAR("CIFAR-10 train"), newCIFAR("CIFAR-10 test")
	var pix [2][]byte
	for k, name := range cifarBatchNames {
		d, s := train, 0
		if k == len(cifarBatchNames)-1 {
			d, s = test, 1
		}
		left := 0
		if limit > 0 {
			left = limit - len(d.Labels)
			if left <= 0 {
				continue
			}
		}
		p, err := readCIFARFile(filepath.Join(dir, name), left, d)
		if err != nil {
			return nil, nil, err
		}
		pix[s] = append(pix[s], p...)
	}
	train.X, test.X = bytesToUnit(pix[0]), bytesToUnit(pix[1])
	return train, test, nil
}

func readCIFARFile(p string, limit int, d *Dataset) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && limit <= 0 && st.Size()%cifarRecord != 0 {
		return nil, fmt.Errorf("data: CIFAR-10 batch %s: size %d is not a multiple of the record size %d (truncated or not a CIFAR-10 binary file)", p, st.Size(), cifarRecord)
	}
	pix, err := readCIFARRecords(f, limit, d)
	if err != nil {
		return nil, fmt.Errorf("data: CIFAR-10 batch %s: %w", p, err)
	}
	return pix, nil
}

// jpegJob is one JPEG entry to decode; jpegOut its decoded pixels.
type jpegJob struct {
	split, class int
	name         string
	data         []byte
}

type jpegOut struct {
	split, class int
	name         string
	pix          []byte // 3072 bytes, channel-major
	err          error
}

// cifarArchive accumulates what a tar.gz holds.
type cifarArchive struct {
	opt     CIFAROptions
	bin     [6]*Dataset // binary batches by cifarBatchNames index
	binPix  [6][]byte
	quota   int        // JPEG images kept per split and class (0: all)
	counts  [2][10]int // JPEG images accepted per split and class
	nJPEG   int
	jobs    chan jpegJob
	failed  atomic.Bool
	results [2][10][]jpegOut
	err     error // first decoding error
}

// loadCIFARArchive streams a tar.gz of binary batches or of JPEG images.
func loadCIFARArchive(p string, opt CIFAROptions) (train, test *Dataset, err error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return nil, nil, fmt.Errorf("data: CIFAR-10 archive %s: not a gzip file (want a .tar.gz of binary batches or JPEG images): %w", p, err)
	}
	defer zr.Close()

	a := &cifarArchive{opt: opt}
	if opt.Limit > 0 {
		a.quota = (opt.Limit + 9) / 10
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	a.jobs = make(chan jpegJob, 4*workers)
	results := make(chan jpegOut, 4*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range a.jobs {
				pix, err := decodeCIFARJPEG(j.data)
				results <- jpegOut{split: j.split, class: j.class, name: j.name, pix: pix, err: err}
			}
		})
	}
	collected := make(chan struct{})
	go func() {
		for r := range results {
			if r.err != nil {
				if a.err == nil {
					a.err = fmt.Errorf("data: CIFAR-10 archive %s: entry %s: %w", p, r.name, r.err)
				}
				a.failed.Store(true)
				continue
			}
			a.results[r.split][r.class] = append(a.results[r.split][r.class], r)
		}
		close(collected)
	}()

	readErr := a.walk(p, tar.NewReader(zr))
	close(a.jobs)
	wg.Wait()
	close(results)
	<-collected
	if readErr != nil {
		return nil, nil, readErr
	}
	if a.err != nil {
		return nil, nil, a.err
	}
	return a.assemble(p)
}

// walk reads the entries of the archive, parsing binary batches and
// handing JPEG images to the decoders.
func (a *cifarArchive) walk(p string, tr *tar.Reader) error {
	for !a.failed.Load() {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("data: CIFAR-10 archive %s: reading tar: %w", p, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		base := path.Base(h.Name)
		if k := slices.Index(cifarBatchNames, base); k >= 0 {
			if a.bin[k] != nil {
				return fmt.Errorf("data: CIFAR-10 archive %s: entry %s: second copy of %s", p, h.Name, base)
			}
			a.bin[k] = newCIFAR("")
			pix, err := readCIFARRecords(tr, a.opt.Limit, a.bin[k])
			if err != nil {
				return fmt.Errorf("data: CIFAR-10 archive %s: entry %s: %w", p, h.Name, err)
			}
			a.binPix[k] = pix
			if a.binDone() {
				return nil
			}
			continue
		}
		ext := strings.ToLower(path.Ext(base))
		if ext != ".jpg" && ext != ".jpeg" {
			continue // README, batches.meta.txt, …
		}
		parts := strings.Split(strings.Trim(path.Clean(h.Name), "/"), "/")
		if len(parts) < 3 {
			return fmt.Errorf("data: CIFAR-10 archive %s: entry %s: want train/<class>/<file>.jpg or test/<class>/<file>.jpg", p, h.Name)
		}
		split := slices.Index([]string{"train", "test"}, parts[len(parts)-3])
		class := slices.Index(CIFAR10Classes, parts[len(parts)-2])
		if split < 0 || class < 0 {
			return fmt.Errorf("data: CIFAR-10 archive %s: entry %s: want train/<class>/<file>.jpg or test/<class>/<file>.jpg with a class among %s", p, h.Name, strings.Join(CIFAR10Classes, ", "))
		}
		if a.quota > 0 && a.counts[split][class] >= a.quota {
			if a.jpegDone() {
				return nil
			}
			continue
		}
		if h.Size > maxJPEGBytes {
			return fmt.Errorf("data: CIFAR-10 archive %s: entry %s: %d bytes, too large for a 32×32 JPEG", p, h.Name, h.Size)
		}
		buf := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, buf); err != nil {
			return fmt.Errorf("data: CIFAR-10 archive %s: entry %s: %w", p, h.Name, err)
		}
		a.counts[split][class]++
		a.nJPEG++
		a.jobs <- jpegJob{split: split, class: class, name: h.Name, data: buf}
	}
	return nil
}

// binDone reports whether, with a limit, the binary batches read so far
// suffice, so that the rest of the archive can be skipped.
func (a *cifarArchive) binDone() bool {
	if a.opt.Limit <= 0 || a.bin[5] == nil {
		return false
	}
	n := 0
	for k := range 5 {
		if a.bin[k] == nil {
			return false
		}
		if n += len(a.bin[k].Labels); n >= a.opt.Limit {
			return true
		}
	}
	return false
}

// jpegDone reports whether every class of both splits has its quota.
func (a *cifarArchive) jpegDone() bool {
	for s := range 2 {
		for c := range 10 {
			if a.counts[s][c] < a.quota {
				return false
			}
		}
	}
	return true
}

// assemble builds the two data sets from what the archive held.
func (a *cifarArchive) assemble(p string) (train, test *Dataset, err error) {
	nbin := 0
	for _, b := range a.bin {
		if b != nil {
			nbin++
		}
	}
	switch {
	case nbin > 0 && a.nJPEG > 0:
		return nil, nil, fmt.Errorf("data: CIFAR-10 archive %s mixes binary batches and JPEG images", p)
	case nbin > 0:
		return a.assembleBinary(p)
	case a.nJPEG > 0:
		return a.assembleJPEG(p)
	}
	return nil, nil, fmt.Errorf("data: CIFAR-10 archive %s holds neither binary batches (%s) nor JPEG images (train/<class>/*.jpg, test/<class>/*.jpg)", p, strings.Join(cifarBatchNames, ", "))
}

func (a *cifarArchive) assembleBinary(p string) (train, test *Dataset, err error) {
	train, test = newCIFAR("CIFAR-10 train"), newCIFAR("CIFAR-10 test")
	var pix [2][]byte
	for k, b := range a.bin {
		d, s := train, 0
		if k == 5 {
			d, s = test, 1
		}
		if a.opt.Limit > 0 && len(d.Labels) >= a.opt.Limit {
			continue
		}
		if b == nil {
			return nil, nil, fmt.Errorf("data: CIFAR-10 archive %s: no entry %s (want %s)", p, cifarBatchNames[k], strings.Join(cifarBatchNames, ", "))
		}
		d.Labels = append(d.Labels, b.Labels...)
		pix[s] = append(pix[s], a.binPix[k]...)
	}
	for s, d := range []*Dataset{train, test} {
		if a.opt.Limit > 0 && len(d.Labels) > a.opt.Limit {
			d.Labels = d.Labels[:a.opt.Limit]
			pix[s] = pix[s][:a.opt.Limit*cifarPixels]
		}
		d.X = bytesToUnit(pix[s])
	}
	return train, test, nil
}

func (a *cifarArchive) assembleJPEG(p string) (train, test *Dataset, err error) {
	var sets [2]*Dataset
	for s, split := range []string{"train", "test"} {
		d := newCIFAR("CIFAR-10 (JPEG copy) " + split)
		groups := a.results[s]
		total := 0
		for c := range groups {
			slices.SortFunc(groups[c], func(x, y jpegOut) int { return strings.Compare(x.name, y.name) })
			total += len(groups[c])
		}
		if total == 0 {
			return nil, nil, fmt.Errorf("data: CIFAR-10 archive %s: no JPEG images under %s/", p, split)
		}
		if a.opt.Limit > 0 {
			total = min(total, a.opt.Limit)
		}
		pix := make([]byte, 0, total*cifarPixels)
		for r := 0; len(d.Labels) < total; r++ {
			for c := range groups {
				if r < len(groups[c]) && len(d.Labels) < total {
					d.Labels = append(d.Labels, c)
					pix = append(pix, groups[c][r].pix...)
				}
			}
		}
		d.X = bytesToUnit(pix)
		sets[s] = d
	}
	return sets[0], sets[1], nil
}

// decodeCIFARJPEG decodes a 32×32 JPEG into channel-major RGB bytes.
func decodeCIFARJPEG(b []byte) ([]byte, error) {
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decoding JPEG: %w", err)
	}
	r := img.Bounds()
	if r.Dx() != cifarSide || r.Dy() != cifarSide {
		return nil, fmt.Errorf("image of %d×%d pixels, want %d×%d", r.Dx(), r.Dy(), cifarSide, cifarSide)
	}
	const plane = cifarSide * cifarSide
	pix := make([]byte, cifarPixels)
	switch m := img.(type) {
	case *image.YCbCr:
		for y := range cifarSide {
			for x := range cifarSide {
				px, py := r.Min.X+x, r.Min.Y+y
				yi, ci := m.YOffset(px, py), m.COffset(px, py)
				R, G, B := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				k := y*cifarSide + x
				pix[k], pix[plane+k], pix[2*plane+k] = R, G, B
			}
		}
	case *image.Gray:
		for y := range cifarSide {
			for x := range cifarSide {
				v := m.GrayAt(r.Min.X+x, r.Min.Y+y).Y
				k := y*cifarSide + x
				pix[k], pix[plane+k], pix[2*plane+k] = v, v, v
			}
		}
	default:
		for y := range cifarSide {
			for x := range cifarSide {
				R, G, B, _ := img.At(r.Min.X+x, r.Min.Y+y).RGBA()
				k := y*cifarSide + x
				pix[k], pix[plane+k], pix[2*plane+k] = byte(R>>8), byte(G>>8), byte(B>>8)
			}
		}
	}
	return pix, nil
}
