package data

import (
	"slices"
	"strings"
	"testing"
)

const pimaLike = `% a comment
@relation pima_diabetes

@attribute 'preg' numeric
@attribute "plas" REAL
@attribute color {red, 'dark blue'}
@attribute 'class' { tested_negative, tested_positive}
@data
6,148,red,tested_positive
% comment inside data
1, 85 , 'dark blue' ,tested_negative
`

func TestReadARFF(t *testing.T) {
	d, err := ReadARFF(strings.NewReader(pimaLike), ARFFOptions{Drop: []string{"color"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Name != "pima_diabetes" || !slices.Equal(d.X, []float32{6, 148, 1, 85}) || !slices.Equal(d.Labels, []int{1, 0}) ||
		!slices.Equal(d.ClassNames, []string{"tested_negative", "tested_positive"}) || !slices.Equal(d.FeatureNames, []string{"preg", "plas"}) {
		t.Fatalf("got %q X %v labels %v classes %v features %v", d.Name, d.X, d.Labels, d.ClassNames, d.FeatureNames)
	}
	d, err = ReadARFF(strings.NewReader(pimaLike), ARFFOptions{OneHot: true, Target: "plas"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.FeatureNames, []string{"preg", "color=red", "color=dark blue", "class=tested_negative", "class=tested_positive"}) ||
		!slices.Equal(d.X, []float32{6, 1, 0, 0, 1, 1, 0, 1, 1, 0}) || !slices.Equal(d.Targets, []float32{148, 85}) {
		t.Fatalf("one-hot: features %v X %v targets %v", d.FeatureNames, d.X, d.Targets)
	}
}

func TestReadARFFErrors(t *testing.T) {
	head := "@relation r\n@attribute a numeric\n@attribute c {x,y}\n@data\n"
	cases := []struct {
		name, in string
		opt      ARFFOptions
		want     []string
	}{
		{"empty", "", ARFFOptions{}, []string{"no @data section"}},
		{"no rows", head, ARFFOptions{}, []string{"no data rows"}},
		{"missing", head + "1,x\n?,y\n", ARFFOptions{}, []string{"line 6, attribute 1 (\"a\"): missing value"}},
		{"bad number", head + "1x,x\n", ARFFOptions{}, []string{"line 5, attribute 1 (\"a\")", `cannot parse "1x"`}},
		{"bad class", head + "1,z\n", ARFFOptions{}, []string{"line 5", `value "z" not among the declared {x, y}`}},
		{"count", head + "1\n", ARFFOptions{}, []string{"line 5: 1 values for 2 attributes"}},
		{"sparse", head + "{0 1}\n", ARFFOptions{}, []string{"sparse"}},
		{"nominal feature", head + "1,x\n", ARFFOptions{Target: "a"}, []string{`attribute "c" is nominal`, "OneHot"}},
		{"string", "@attribute s string\n@attribute a numeric\n@data\n", ARFFOptions{}, []string{`attribute "s" has type string`}},
		{"target", head, ARFFOptions{Target: "q"}, []string{`target attribute "q" not declared (attributes: a, c)`}},
		{"keyword", "@foo bar\n", ARFFOptions{}, []string{`line 1: unexpected "@foo"`}},
		{"quote", "@attribute 'a numeric\n", ARFFOptions{}, []string{"line 1", "bad name"}},
		{"row quote", head + "1,'x\n", ARFFOptions{}, []string{"line 5", "unterminated quote"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadARFF(strings.NewReader(c.in), c.opt)
			wantErr(t, err, append([]string{"data: ARFF"}, c.want...)...)
		})
	}
	_, err := LoadARFF(t.TempDir()+"/none.arff", ARFFOptions{})
	wantErr(t, err, "none.arff")
}
