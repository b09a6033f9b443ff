package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// IDX magic numbers of unsigned-byte files: the third byte is the element
// type (0x08, unsigned byte), the fourth the number of dimensions.
const (
	IDXLabelsMagic = 0x00000801 // one dimension: N labels
	IDXImagesMagic = 0x00000803 // three dimensions: N images of H×W
)

// maxIDXElements bounds the size an IDX header may announce.
const maxIDXElements = 1 << 31

// IDX is the content of an IDX file of unsigned bytes: its dimensions and
// its elements in row-major order.
type IDX struct {
	Dims []int
	Data []byte
}

// Magic returns the magic number of an unsigned-byte IDX file with the
// dimensions of x.
func (x *IDX) Magic() uint32 { return 0x0800 | uint32(len(x.Dims)) }

// idxTypeNames names the IDX element type codes.
var idxTypeNames = map[byte]string{
	0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16",
	0x0C: "int32", 0x0D: "float32", 0x0E: "float64",
}

// ReadIDX reads an IDX file of unsigned bytes, gzipped or raw (detected
// from the first two bytes), and checks that the data holds exactly the
// number of elements the header announces.
func ReadIDX(r io.Reader) (*IDX, error) {
	x, err := readIDX(r)
	if err != nil {
		return nil, fmt.Errorf("data: IDX: %w", err)
	}
	return x, nil
}

func readIDX(r io.Reader) (*IDX, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var src io.Reader = br
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("bad gzip header: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	var h [4]byte
	if n, err := io.ReadFull(src, h[:]); err != nil {
		if n == 0 && err == io.EOF {
			return nil, errors.New("empty file (want an IDX header)")
		}
		return nil, fmt.Errorf("truncated header: %d of 4 magic bytes: %w", n, err)
	}
	magic := binary.BigEndian.Uint32(h[:])
	if h[0] != 0 || h[1] != 0 {
		return nil, fmt.Errorf("wrong magic number 0x%08x (want 0x00000801 for labels or 0x00000803 for images)", magic)
	}
	if h[2] != 0x08 {
		name, ok := idxTypeNames[h[2]]
		if !ok {
			return nil, fmt.Errorf("wrong magic number 0x%08x: unknown element type 0x%02x", magic, h[2])
		}
		return nil, fmt.Errorf("magic number 0x%08x: element type 0x%02x (%s) not supported, want 0x08 (unsigned byte)", magic, h[2], name)
	}
	nd := int(h[3])
	if nd == 0 {
		return nil, fmt.Errorf("magic number 0x%08x announces zero dimensions", magic)
	}
	dimBytes := make([]byte, 4*nd)
	if n, err := io.ReadFull(src, dimBytes); err != nil {
		return nil, fmt.Errorf("truncated header: %d of %d dimension bytes for %d dimensions: %w", n, 4*nd, nd, err)
	}
	x := &IDX{Dims: make([]int, nd)}
	total := 1
	for i := range nd {
		d := int(binary.BigEndian.Uint32(dimBytes[4*i:]))
		x.Dims[i] = d
		if d != 0 && total > maxIDXElements/d {
			return nil, fmt.Errorf("dimensions %v announce more than %d elements", x.Dims[:i+1], maxIDXElements)
		}
		total *= d
	}
	data, err := readAtMost(src, total)
	if err != nil {
		return nil, fmt.Errorf("reading data of dims %v: %w", x.Dims, err)
	}
	if len(data) < total {
		return nil, fmt.Errorf("truncated data: dims %v need %d bytes, found %d", x.Dims, total, len(data))
	}
	// The data must end where the header says.
	var extra [1]byte
	n, err := io.ReadFull(src, extra[:])
	if n > 0 {
		m, _ := io.Copy(io.Discard, src)
		return nil, fmt.Errorf("%d unexpected bytes after the %d data bytes of dims %v", m+1, total, x.Dims)
	}
	if err != io.EOF {
		// e.g. a gzip checksum mismatch, reported at the end of the stream
		return nil, fmt.Errorf("after the data of dims %v: %w", x.Dims, err)
	}
	x.Data = data
	return x, nil
}

// readAtMost reads up to n bytes, growing its buffer as data arrives so
// that a header announcing a huge size cannot force a huge allocation. An
// early end of the input is not an error: the caller checks the length.
func readAtMost(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, min(n, 1<<20))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
			buf = buf[:len(buf):min(cap(buf), n)]
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			break
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// ReadIDXFile reads the IDX file at path (gzipped or raw); errors name the
// file.
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	x, err := readIDX(f)
	if err != nil {
		return nil, fmt.Errorf("data: IDX file %s: %w", path, err)
	}
	return x, nil
}

// WriteIDX writes x as a raw (not gzipped) IDX file.
func WriteIDX(w io.Writer, x *IDX) error {
	if len(x.Dims) == 0 || len(x.Dims) > 255 {
		return fmt.Errorf("data: WriteIDX: %d dimensions, want 1 to 255", len(x.Dims))
	}
	n := 1
	h := binary.BigEndian.AppendUint32(nil, x.Magic())
	for _, d := range x.Dims {
		if d < 0 || d > 1<<32-1 {
			return fmt.Errorf("data: WriteIDX: dimension %d out of range in %v", d, x.Dims)
		}
		n *= d
		h = binary.BigEndian.AppendUint32(h, uint32(d))
	}
	if n != len(x.Data) {
		return fmt.Errorf("data: WriteIDX: dims %v need %d bytes, have %d", x.Dims, n, len(x.Data))
	}
	if _, err := w.Write(h); err != nil {
		return fmt.Errorf("data: WriteIDX: %w", err)
	}
	if _, err := w.Write(x.Data); err != nil {
		return fmt.Errorf("data: WriteIDX: %w", err)
	}
	return nil
}
