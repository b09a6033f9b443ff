package data_test

import (
	"fmt"
	"strings"

	"github.com/gradus-ml/gradus/data"
	"github.com/gradus-ml/gradus/tensor"
)

// A table read from CSV, standardized, and cut into shuffled mini-batches.
func Example() {
	const table = `height,weight,label
1.0,10,0
2.0,20,1
3.0,30,0
4.0,40,1
5.0,50,1
`
	d, err := data.ReadCSV(strings.NewReader(table), data.CSVOptions{Target: "label", Classify: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	mean, std := d.ChannelMeanStd()
	if err := d.Normalize(mean, std); err != nil {
		fmt.Println(err)
		return
	}
	b, err := data.NewBatcher(d, 2, tensor.Float32, data.BatchOptions{Shuffle: true, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Len(), "examples of", d.FeatureNames, "in", d.Classes, "classes,", b.Batches(), "batches")
	seen := 0
	for x, y := range b.Epoch() {
		seen += len(y)
		fmt.Println(x.Shape(), len(y))
	}
	fmt.Println("examples seen:", seen)
	// Output:
	// 5 examples of [height weight] in 2 classes, 3 batches
	// [2 2] 2
	// [2 2] 2
	// [1 2] 1
	// examples seen: 5
}

// A character vocabulary and random context windows for a language model.
func ExampleNewWindowSampler() {
	txt, err := data.NewText("poem", []byte("to be or not to be"), data.TextOptions{ValFraction: -1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d characters: %q\n", txt.Vocab.Size(), txt.Vocab.Decode([]int{0, 1, 2, 3, 4, 5, 6}))
	s, err := data.NewWindowSampler(txt.Train, 5, 2, 7)
	if err != nil {
		fmt.Println(err)
		return
	}
	x, y := s.Next()
	for b := range 2 {
		fmt.Printf("x %q → y %q\n", txt.Vocab.Decode(x[b*5:b*5+5]), txt.Vocab.Decode(y[b*5:b*5+5]))
	}
	// Output:
	// 7 characters: " benort"
	// x "not t" → y "ot to"
	// x "be or" → y "e or "
}

// Loading MNIST from the Go module cache (or $GRADUS_DATA).
func ExampleLoadMNIST() {
	train, test, err := data.LoadMNIST("")
	if err != nil {
		fmt.Println(err) // says how to fetch the files
		return
	}
	fmt.Println(train.Name, train.Len(), train.Shape, test.Len())
}
