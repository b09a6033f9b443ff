package data

import (
	"slices"
	"strings"
	"testing"
)

func TestReadCSV(t *testing.T) {
	const table = "a, b ,y,c\n1,2,0.5,3\n4,5e1,-1,6\n\n7,8,2,-9\n"
	d, err := ReadCSV(strings.NewReader(table), CSVOptions{Target: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 || !slices.Equal(d.Shape, []int{3}) || !slices.Equal(d.FeatureNames, []string{"a", "b", "c"}) {
		t.Fatalf("got %d rows, shape %v, features %v", d.Len(), d.Shape, d.FeatureNames)
	}
	if !slices.Equal(d.X, []float32{1, 2, 3, 4, 50, 6, 7, 8, -9}) || !slices.Equal(d.Targets, []float32{0.5, -1, 2}) || d.Labels != nil {
		t.Fatalf("X %v targets %v labels %v", d.X, d.Targets, d.Labels)
	}

	// last column by default, dropped columns, other separator
	d, err = ReadCSV(strings.NewReader("# comment line\nx;skip;k\n1;9;3\n2;9;0\n"), CSVOptions{Comma: ';', Drop: []string{"skip"}, Classify: true, SkipLines: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.X, []float32{1, 2}) || !slices.Equal(d.Labels, []int{3, 0}) || d.Classes != 4 || d.ClassNames != nil {
		t.Fatalf("X %v labels %v classes %d names %v", d.X, d.Labels, d.Classes, d.ClassNames)
	}
	// class names
	d, err = ReadCSV(strings.NewReader("f,species\n1,setosa\n2,virginica\n3,setosa\n4,versicolor\n"), CSVOptions{Classify: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Labels, []int{0, 2, 0, 1}) || !slices.Equal(d.ClassNames, []string{"setosa", "versicolor", "virginica"}) || d.Classes != 3 {
		t.Fatalf("labels %v names %v", d.Labels, d.ClassNames)
	}
}

func TestReadCSVErrors(t *testing.T) {
	cases := []struct {
		name, in string
		opt      CSVOptions
		want     []string
	}{
		{"empty", "", CSVOptions{}, []string{"no rows"}},
		{"no target with target", "a,b\n1,2\n", CSVOptions{NoTarget: true, Target: "a"}, []string{"NoTarget together with Target"}},
		{"no header bad", "1,2\nx,3\n", CSVOptions{NoHeader: true, SkipLines: 1}, []string{"line 2, column 1 (\"1\")"}},
		{"no header first bad", "1,x\n", CSVOptions{NoHeader: true}, []string{"line 1, column 2 (\"2\", the target)"}},
		{"no rows", "a,b\n", CSVOptions{}, []string{"no data rows"}},
		{"bad value", "a,b,c\n1,2,3\n4,x5,6\n", CSVOptions{}, []string{"line 3, column 2 (\"b\")", `cannot parse "x5"`}},
		{"bad target", "a,b\n1,2\n4,?\n", CSVOptions{}, []string{"line 3, column 2 (\"b\", the target)"}},
		{"empty value", "a,b\n1,2\n,3\n", CSVOptions{}, []string{"line 3, column 1", "empty value"}},
		{"nan", "a,b\n1,2\nNaN,3\n", CSVOptions{}, []string{"line 3, column 1", "not a finite"}},
		{"overflow", "a,b\n1e39,2\n", CSVOptions{}, []string{"line 2, column 1", "not a finite float32"}},
		{"fields", "a,b\n1,2\n3\n", CSVOptions{}, []string{"line 3", "wrong number of fields"}},
		{"fields after skip", "junk\njunk\na,b\n1,2\n3\n", CSVOptions{SkipLines: 2}, []string{"line 5", "wrong number of fields"}},
		{"target", "a,b\n1,2\n", CSVOptions{Target: "z"}, []string{`target column "z" not in header (columns: a, b)`}},
		{"drop", "a,b\n1,2\n", CSVOptions{Drop: []string{"q"}}, []string{`column "q" to drop`}},
		{"only target", "a\n1\n", CSVOptions{}, []string{"no feature columns"}},
		{"empty label", "a,b\n1,\n", CSVOptions{Classify: true}, []string{"line 2, column 2", "empty class label"}},
		{"quote", "a,b\n1,\"2\n", CSVOptions{}, []string{"line"}},
		{"skip past end", "a,b\n", CSVOptions{SkipLines: 3}, []string{"skipping line 2 of 3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(c.in), c.opt)
			wantErr(t, err, append([]string{"data: CSV"}, c.want...)...)
		})
	}
}

func TestReadCSVSklearnLayouts(t *testing.T) {
	// breast_cancer.csv: a summary line, then rows without header, the
	// class in the last column.
	bc := "3,2,malignant,benign\n17.99,10.38,0\n20.57,17.77,1\n1.5,2,0\n"
	d, err := ReadCSV(strings.NewReader(bc), CSVOptions{SkipLines: 1, NoHeader: true, Classify: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 || !slices.Equal(d.Labels, []int{0, 1, 0}) || d.Classes != 2 || d.X[2] != 20.57 || d.FeatureNames != nil {
		t.Fatalf("breast cancer layout: %d rows, labels %v, X %v", d.Len(), d.Labels, d.X)
	}
	d, err = ReadCSV(strings.NewReader(bc), CSVOptions{SkipLines: 1, NoHeader: true, Target: "1", Drop: []string{"3"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.X, []float32{10.38, 17.77, 2}) || !slices.Equal(d.Targets, []float32{17.99, 20.57, 1.5}) {
		t.Fatalf("by column number: X %v targets %v", d.X, d.Targets)
	}
	// diabetes: space-separated features and targets in separate files.
	x, err := ReadCSV(strings.NewReader("59 2 32.1\n48 1 21.6\n"), CSVOptions{Comma: ' ', NoHeader: true, NoTarget: true})
	if err != nil {
		t.Fatal(err)
	}
	y, err := ReadCSV(strings.NewReader("1.51e+02\n7.5e+01\n"), CSVOptions{NoHeader: true, NoTarget: true})
	if err != nil {
		t.Fatal(err)
	}
	x.Targets = y.X
	if err := x.Validate(); err != nil || x.Len() != 2 || x.Features() != 3 || x.Targets[0] != 151 {
		t.Fatalf("diabetes layout: %v, %d rows", err, x.Len())
	}
}

func TestLoadCSVFile(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "t.csv.gz", gzipBytes(t, []byte("a,y\n1,1\n2,0\n")))
	d, err := LoadCSV(p, CSVOptions{Classify: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 2 || d.Classes != 2 || d.Name != p {
		t.Fatalf("got %d rows, %d classes, name %q", d.Len(), d.Classes, d.Name)
	}
	bad := writeFile(t, dir, "bad.csv", []byte("a,y\n1,1\n2,zz\n"))
	_, err = LoadCSV(bad, CSVOptions{})
	wantErr(t, err, "data: CSV file", "bad.csv", "line 3, column 2")
}
