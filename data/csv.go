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

// CSVOptions configures ReadCSV. The zero value reads a header row and
// takes the last column as a regression target.
type CSVOptions struct {
	// Target is the name of the target column; "" means the last column.
	Target string
	// Classify reads the target as class labels: non-negative integers
	// are used as they are, any other values are numbered in sorted order
	// and kept as ClassNames.
	Classify bool
	// NoTarget makes every column a feature: the Dataset has neither
	// Labels nor Targets (for unsupervised data, or targets kept in
	// another file, as sklearn's diabetes_target.csv.gz).
	NoTarget bool
	// NoHeader reads data from the first row on; the columns are then
	// named by their 1-based numbers "1", "2", … (for Target and Drop).
	NoHeader bool
	// Drop lists columns (by name) to ignore.
	Drop []string
	// Comma is the field separator (0: ',').
	Comma rune
	// SkipLines is the number of lines skipped before the header row (or
	// the first data row with NoHeader), such as the "569,30,malignant,
	// benign" line heading sklearn's CSV files.
	SkipLines int
}

// maxIntLabel bounds class labels given as integers.
const maxIntLabel = 1 << 16

// ReadCSV reads a table of numeric columns into a Dataset of shape (F)
// with FeatureNames from the header, and either Targets (regression) or
// Labels (with opt.Classify) from the target column. Errors give the line
// and the column (number and name) of a bad value.
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
			return nil, fmt.Errorf("skipping line %d of %d: %w", i+1, opt.SkipLines, err)
		}
	}
	cr := csv.NewReader(br)
	if opt.Comma != 0 {
		cr.Comma = opt.Comma
	}
	cr.ReuseRecord = true
	// csv reports lines counted from where it started reading.
	fixLine := func(err error) error {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			pe.StartLine += opt.SkipLines
			pe.Line += opt.SkipLines
		}
		return err
	}
	first, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("no rows (empty input)")
	}
	if err != nil {
		return nil, fmt.Errorf("first row: %w", fixLine(err))
	}
	first = slices.Clone(first)
	header := make([]string, len(first))
	for i := range header {
		if opt.NoHeader {
			header[i] = strconv.Itoa(i + 1)
		} else {
			header[i] = strings.TrimSpace(first[i])
		}
	}
	target := -1
	switch {
	case opt.NoTarget:
		if opt.Target != "" || opt.Classify {
			return nil, errors.New("NoTarget together with Target or Classify")
		}
	case opt.Target == "":
		target = len(header) - 1
	default:
		target = slices.Index(header, opt.Target)
		if target < 0 {
			return nil, fmt.Errorf("target column %q not in header (columns: %s)", opt.Target, strings.Join(header, ", "))
		}
	}
	use := make([]bool, len(header))
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
	var features []int
	for i, u := range use {
		if u {
			features = append(features, i)
		}
	}
	if len(features) == 0 {
		return nil, errors.New("no feature columns besides the target")
	}
	d := &Dataset{Shape: []int{len(features)}}
	if !opt.NoHeader {
		for _, i := range features {
			d.FeatureNames = append(d.FeatureNames, header[i])
		}
	}
	var rawTargets []string
	row := func(rec []string, line int) error {
		for _, i := range features {
			v, err := parseCell(rec[i])
			if err != nil {
				return fmt.Errorf("line %d, column %d (%q): %w", line, i+1, header[i], err)
			}
			d.X = append(d.X, v)
		}
		switch {
		case target < 0:
		case opt.Classify:
			t := strings.TrimSpace(rec[target])
			if t == "" {
				return fmt.Errorf("line %d, column %d (%q, the target): empty class label", line, target+1, header[target])
			}
			rawTargets = append(rawTargets, t)
		default:
			v, err := parseCell(rec[target])
			if err != nil {
				return fmt.Errorf("line %d, column %d (%q, the target): %w", line, target+1, header[target], err)
			}
			d.Targets = append(d.Targets, v)
		}
		return nil
	}
	if opt.NoHeader {
		if err := row(first, 1+opt.SkipLines); err != nil {
			return nil, err
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fixLine(err)
		}
		line, _ := cr.FieldPos(0)
		if err := row(rec, line+opt.SkipLines); err != nil {
			return nil, err
		}
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
