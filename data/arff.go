package data

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// ARFFOptions configures ReadARFF. The zero value takes the last
// attribute as the target.
type ARFFOptions struct {
	// Target is the name of the target attribute ("": the last one). A
	// nominal target gives class Labels, with the declared values as
	// ClassNames; a numeric target gives regression Targets.
	Target string
	// Drop lists attributes to ignore (string and date attributes must be
	// dropped, and nominal ones unless OneHot).
	Drop []string
	// OneHot encodes a nominal feature with k declared values as k
	// features "name=value", one of them 1 and the others 0.
	OneHot bool
}

// arffAttr is one declared attribute.
type arffAttr struct {
	name    string
	numeric bool
	nominal []string // declared values of a nominal attribute
	kind    string   // type as written, for messages
}

// ReadARFF reads a dense ARFF file (Weka's attribute-relation format):
// numeric features and a numeric or nominal target. Missing values ("?")
// in the columns read are errors giving the line and the attribute.
func ReadARFF(r io.Reader, opt ARFFOptions) (*Dataset, error) {
	d, err := readARFF(r, opt)
	if err != nil {
		return nil, fmt.Errorf("data: ARFF: %w", err)
	}
	return d, nil
}

func readARFF(r io.Reader, opt ARFFOptions) (*Dataset, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var (
		attrs    []arffAttr
		relation string
		line     int
		inData   bool
		d        *Dataset
		target   int
		features []int
	)
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '%' {
			continue
		}
		if !inData {
			kw, rest := cutWord(text)
			switch strings.ToLower(kw) {
			case "@relation":
				name, _, err := arffToken(rest)
				if err != nil {
					return nil, fmt.Errorf("line %d: @relation: %w", line, err)
				}
				relation = name
			case "@attribute":
				a, err := parseARFFAttr(rest)
				if err != nil {
					return nil, fmt.Errorf("line %d: %w", line, err)
				}
				attrs = append(attrs, a)
			case "@data":
				var err error
				if d, target, features, err = arffLayout(attrs, opt); err != nil {
					return nil, err
				}
				d.Name = relation
				inData = true
			default:
				return nil, fmt.Errorf("line %d: unexpected %q before @data (want @relation, @attribute or @data)", line, kw)
			}
			continue
		}
		if text[0] == '{' {
			return nil, fmt.Errorf("line %d: sparse ARFF rows are not supported", line)
		}
		vals, err := splitARFFRow(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if len(vals) != len(attrs) {
			return nil, fmt.Errorf("line %d: %d values for %d attributes", line, len(vals), len(attrs))
		}
		for _, i := range features {
			if vals[i] == "?" {
				return nil, fmt.Errorf("line %d, attribute %d (%q): missing value", line, i+1, attrs[i].name)
			}
			if nom := attrs[i].nominal; nom != nil {
				k := slices.Index(nom, vals[i])
				if k < 0 {
					return nil, fmt.Errorf("line %d, attribute %d (%q): value %q not among the declared {%s}", line, i+1, attrs[i].name, vals[i], strings.Join(nom, ", "))
				}
				for j := range nom {
					d.X = append(d.X, float32(b2i(j == k)))
				}
				continue
			}
			v, err := parseCell(vals[i])
			if err != nil {
				return nil, fmt.Errorf("line %d, attribute %d (%q): %w", line, i+1, attrs[i].name, err)
			}
			d.X = append(d.X, v)
		}
		a, tv := attrs[target], vals[target]
		if tv == "?" {
			return nil, fmt.Errorf("line %d, attribute %d (%q, the target): missing value", line, target+1, a.name)
		}
		if a.numeric {
			v, err := parseCell(tv)
			if err != nil {
				return nil, fmt.Errorf("line %d, attribute %d (%q, the target): %w", line, target+1, a.name, err)
			}
			d.Targets = append(d.Targets, v)
			continue
		}
		k := slices.Index(a.nominal, tv)
		if k < 0 {
			return nil, fmt.Errorf("line %d, attribute %d (%q, the target): value %q not among the declared {%s}", line, target+1, a.name, tv, strings.Join(a.nominal, ", "))
		}
		d.Labels = append(d.Labels, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("after line %d: %w", line, err)
	}
	if !inData {
		return nil, errors.New("no @data section")
	}
	if len(d.X) == 0 {
		return nil, errors.New("no data rows after @data")
	}
	return d, nil
}

// arffLayout chooses the target and feature attributes.
func arffLayout(attrs []arffAttr, opt ARFFOptions) (d *Dataset, target int, features []int, err error) {
	if len(attrs) == 0 {
		return nil, 0, nil, errors.New("@data before any @attribute")
	}
	names := make([]string, len(attrs))
	for i, a := range attrs {
		names[i] = a.name
	}
	target = len(attrs) - 1
	if opt.Target != "" {
		if target = slices.Index(names, opt.Target); target < 0 {
			return nil, 0, nil, fmt.Errorf("target attribute %q not declared (attributes: %s)", opt.Target, strings.Join(names, ", "))
		}
	}
	drop := make([]bool, len(attrs))
	for _, n := range opt.Drop {
		i := slices.Index(names, n)
		if i < 0 {
			return nil, 0, nil, fmt.Errorf("attribute %q to drop not declared (attributes: %s)", n, strings.Join(names, ", "))
		}
		if i == target {
			return nil, 0, nil, fmt.Errorf("attribute %q is both the target and dropped", n)
		}
		drop[i] = true
	}
	t := attrs[target]
	if !t.numeric && t.nominal == nil {
		return nil, 0, nil, fmt.Errorf("target attribute %q has type %s, want numeric or nominal", t.name, t.kind)
	}
	d = &Dataset{}
	for i, a := range attrs {
		if i == target || drop[i] {
			continue
		}
		switch {
		case a.numeric:
			d.FeatureNames = append(d.FeatureNames, a.name)
		case a.nominal != nil && opt.OneHot:
			for _, v := range a.nominal {
				d.FeatureNames = append(d.FeatureNames, a.name+"="+v)
			}
		case a.nominal != nil:
			return nil, 0, nil, fmt.Errorf("attribute %q is nominal: features must be numeric (set ARFFOptions.OneHot, or drop it with ARFFOptions.Drop)", a.name)
		default:
			return nil, 0, nil, fmt.Errorf("attribute %q has type %s: features must be numeric (drop it with ARFFOptions.Drop)", a.name, a.kind)
		}
		features = append(features, i)
	}
	if len(features) == 0 {
		return nil, 0, nil, errors.New("no feature attributes besides the target")
	}
	d.Shape = []int{len(d.FeatureNames)}
	if t.numeric {
		d.Targets = []float32{}
	} else {
		d.Labels = []int{}
		d.Classes = len(t.nominal)
		d.ClassNames = slices.Clone(t.nominal)
	}
	return d, target, features, nil
}

// parseARFFAttr parses "<name> <type>" after @attribute.
func parseARFFAttr(s string) (arffAttr, error) {
	name, rest, err := arffToken(s)
	if err != nil || name == "" {
		return arffAttr{}, fmt.Errorf("@attribute %s: bad name", s)
	}
	rest = strings.TrimSpace(rest)
	a := arffAttr{name: name, kind: rest}
	if strings.HasPrefix(rest, "{") {
		end := strings.LastIndexByte(rest, '}')
		if end < 0 {
			return a, fmt.Errorf("@attribute %s: nominal values without closing }", name)
		}
		vals, err := splitARFFRow(rest[1:end])
		if err != nil {
			return a, fmt.Errorf("@attribute %s: %w", name, err)
		}
		a.nominal, a.kind = vals, "nominal"
		return a, nil
	}
	kw, _ := cutWord(rest)
	switch strings.ToLower(kw) {
	case "numeric", "real", "integer":
		a.numeric = true
	case "":
		return a, fmt.Errorf("@attribute %s: missing type", name)
	}
	return a, nil
}

// cutWord splits s at its first run of white space.
func cutWord(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], strings.TrimSpace(s[i:])
	}
	return s, ""
}

// arffToken reads one name or value, quoted with ' or " (backslash
// escapes) or bare up to white space, and returns the rest.
func arffToken(s string) (tok, rest string, err error) {
	s = strings.TrimLeft(s, " \t")
	if s == "" {
		return "", "", nil
	}
	if q := s[0]; q == '\'' || q == '"' {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch c := s[i]; {
			case c == '\\' && i+1 < len(s):
				i++
				b.WriteByte(s[i])
			case c == q:
				return b.String(), s[i+1:], nil
			default:
				b.WriteByte(c)
			}
		}
		return "", "", fmt.Errorf("unterminated quote in %s", s)
	}
	w, r := cutWord(s)
	return w, r, nil
}

// splitARFFRow splits a comma-separated row of possibly quoted values.
func splitARFFRow(s string) ([]string, error) {
	var out []string
	for {
		s = strings.TrimLeft(s, " \t")
		var v string
		if s != "" && (s[0] == '\'' || s[0] == '"') {
			tok, rest, err := arffToken(s)
			if err != nil {
				return nil, err
			}
			v, s = tok, strings.TrimLeft(rest, " \t")
			if s != "" && s[0] != ',' {
				return nil, fmt.Errorf("text %q after quoted value %q", s, v)
			}
		} else {
			i := strings.IndexByte(s, ',')
			if i < 0 {
				i = len(s)
			}
			v, s = strings.TrimSpace(s[:i]), s[i:]
		}
		out = append(out, v)
		if s == "" {
			return out, nil
		}
		s = s[1:] // the comma
	}
}

// LoadARFF reads the ARFF file at path (gzipped if its name ends in .gz)
// with ReadARFF; errors name the file.
func LoadARFF(path string, opt ARFFOptions) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("data: ARFF file %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	d, err := readARFF(r, opt)
	if err != nil {
		return nil, fmt.Errorf("data: ARFF file %s: %w", path, err)
	}
	if d.Name == "" {
		d.Name = path
	}
	return d, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
