package data

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// CSVOptions configures ReadCSV. The zero value takes the last column as a
// regression target.
type CSVOptions struct {
	// Target is the header name of the target column; "" means the last
	// column.
	Target string
	// Classify reads the target as class labels: non-negative integers
	// are used as they are, any other values are numbered in sorted order
	// and kept as ClassNames.
	Classify bool
	// Drop lists columns (header names) to ignore.
	Drop []string
	// Comma is the field separator (0: ',').
	Comma rune
	// SkipLines is the number of lines before the header row.
	SkipLines int
}

// maxIntLabel bounds class labels given as integers.
const maxIntLabel = 1 << 16

// ReadCSV reads a table with a header row and numeric columns into a
// Dataset of shape (F) with FeatureNames from the header, and either
// Targets (regression) or Labels (with opt.Classify) from the target
// column. Errors give the line and the column (number and name) of a bad
// value.
func ReadCSV(r io.Reader, opt CSVOptions) (*Dataset, error) {
	d, err := readCSV(r, opt)
	if err != nil {
		return nil, fmt.Errorf("data: CSV: %w", err)
	}
	return d, nil
}

func readCSV(r io.Reader, opt CSVOptions) (*Dataset, error) {
	br := bufio.NewReader(r)
	for i := range opt.SkipLines {
		if _, err := br.ReadString('\n'); err != nil {
			return nil, fmt.Errorf("skipping line %d of %d before the header: %w", i+1, opt.SkipLines, err)
		}
	}
	cr := csv.NewReader(br)
	if opt.Comma != 0 {
		cr.Comma = opt.Comma
	}
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("no header row (empty input)")
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	header = slices.Clone(header)
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	lineOf := func(hdrLine int) int { return hdrLine + opt.SkipLines }
	target := len(header) - 1
	if opt.Target != "" {
		target = slices.Index(header, opt.Target)
		if target < 0 {
			return nil, fmt.Errorf("target column %q not in header (columns: %s)", opt.Target, strings.Join(header, ", "))
		}
	}
	use := make([]bool, len(header))
	var features []int
	for i := range header {
		use[i] = i != target
	}
	for _, name := range opt.Drop {
		i := slices.Index(header, name)
		if i < 0 {
			return nil, fmt.Errorf("column %q to drop not in header (columns: %s)", name, strings.Join(header, ", "))
		}
		if i == target {
			return nil, fmt.Errorf("column %q is both the target and dropped", name)
		}
		use[i] = false
	}
	for i, u := range use {
		if u {
			features = append(features, i)
		}
	}
	if len(features) == 0 {
		return nil, fmt.Errorf("no feature columns besides the target %q", header[target])
	}
	d := &Dataset{Shape: []int{len(features)}}
	for _, i := range features {
		d.FeatureNames = append(d.FeatureNames, header[i])
	}
	var rawTargets []string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				pe.StartLine, pe.Line = lineOf(pe.StartLine), lineOf(pe.Line)
			}
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		line = lineOf(line)
		for _, i := range features {
			v, err := parseCell(rec[i])
			if err != nil {
				return nil, fmt.Errorf("line %d, column %d (%q): %w", line, i+1, header[i], err)
			}
			d.X = append(d.X, v)
		}
		if opt.Classify {
			t := strings.TrimSpace(rec[target])
			if t == "" {
				return nil, fmt.Errorf("line %d, column %d (%q, the target): empty class label", line, target+1, header[target])
			}
			rawTargets = append(rawTargets, t)
			continue
		}
		v, err := parseCell(rec[target])
		if err != nil {
			return nil, fmt.Errorf("line %d, column %d (%q, the target): %w", line, target+1, header[target], err)
		}
		d.Targets = append(d.Targets, v)
	}
	if len(d.X) == 0 {
		return nil, errors.New("no data rows after the header")
	}
	if opt.Classify {
		d.Labels, d.Classes, d.ClassNames = classLabels(rawTargets)
	}
	return d, nil
}

// parseCell parses a finite number that fits float32.
func parseCell(s string) (float32, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errors.New("empty value")
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return 0, fmt.Errorf("cannot parse %q as a number", s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
		return 0, fmt.Errorf("value %q is not a finite float32 number", s)
	}
	return float32(v), nil
}

// classLabels numbers the target values: as themselves if all are
// integers in [0, maxIntLabel), else in sorted order of the distinct
// strings, which become the class names.
func classLabels(raw []string) (labels []int, classes int, names []string) {
	labels = make([]int, len(raw))
	ints := true
	for i, s := range raw {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 || v >= maxIntLabel {
			ints = false
			break
		}
		labels[i] = v
		classes = max(classes, v+1)
	}
	if ints {
		return labels, classes, nil
	}
	names = slices.Clone(raw)
	slices.Sort(names)
	names = slices.Compact(names)
	for i, s := range raw {
		labels[i], _ = slices.BinarySearch(names, s)
	}
	return labels, len(names), names
}

// LoadCSV reads the CSV file at path (gzipped if its name ends in .gz)
// with ReadCSV; errors name the file.
func LoadCSV(path string, opt CSVOptions) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("data: CSV file %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	d, err := readCSV(r, opt)
	if err != nil {
		return nil, fmt.Errorf("data: CSV file %s: %w", path, err)
	}
	d.Name = path
	return d, nil
}
