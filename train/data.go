package train

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gradus-ml/gradus/data"
)

// Data holds what a run trains and evaluates on: an image (or table)
// training set and test set, or an encoded text.
type Data struct {
	// Name describes the data, e.g. "MNIST" or the path of a text.
	Name        string
	Train, Test *data.Dataset
	Text        *data.Text
	// Mean and Std are the per-channel statistics the images were
	// normalized with (nil when they were not).
	Mean, Std []float64
}

// LoadData loads the data set of c (resolved with WithDefaults): images
// scaled to [0, 1] then standardized per channel with the statistics of
// the training set, or the text split into its training and validation
// parts. Limit keeps the first examples of each split.
func LoadData(c Config) (*Data, error) {
	var train, test *data.Dataset
	var err error
	switch c.Data {
	case "mnist":
		train, test, err = data.LoadMNIST(c.DataDir)
	case "fashion-mnist":
		train, test, err = data.LoadFashionMNIST(c.DataDir)
	case "cifar10":
		var p string
		if p, err = data.CIFAR10Path(c.DataDir); err == nil {
			train, test, err = data.LoadCIFAR10(p, data.CIFAROptions{Limit: c.Limit})
		}
	case "text":
		return loadText(c)
	default:
		return nil, fmt.Errorf("train: unknown data set %q", c.Data)
	}
	if err != nil {
		return nil, err
	}
	if c.Limit > 0 {
		if train.Len() > c.Limit {
			train, _ = train.Split(c.Limit)
		}
		if test.Len() > c.Limit {
			test, _ = test.Split(c.Limit)
		}
		// Split shares storage: copy before normalizing in place.
		train, test = train.Clone(), test.Clone()
	}
	return NewImageData(strings.TrimSuffix(train.Name, " train"), train, test)
}

// NewImageData standardizes train and test in place with the per-channel
// mean and standard deviation of train and returns them as a Data.
func NewImageData(name string, train, test *data.Dataset) (*Data, error) {
	if err := train.Validate(); err != nil {
		return nil, err
	}
	if err := test.Validate(); err != nil {
		return nil, err
	}
	if train.Labels == nil || test.Labels == nil {
		return nil, fmt.Errorf("train: data set %q has no class labels", name)
	}
	if train.Len() == 0 || test.Len() == 0 {
		return nil, fmt.Errorf("train: data set %q has %d training and %d test examples, want both > 0", name, train.Len(), test.Len())
	}
	mean, std := train.ChannelMeanStd()
	for i := range std {
		if std[i] == 0 {
			std[i] = 1 // a constant channel: centre it only
		}
	}
	if err := train.Normalize(mean, std); err != nil {
		return nil, err
	}
	if err := test.Normalize(mean, std); err != nil {
		return nil, err
	}
	return &Data{Name: name, Train: train, Test: test, Mean: mean, Std: std}, nil
}

// loadText loads the text of c: DataDir as a file, or tinyshakespeare.txt
// in the directory DataDir, or by default Tiny Shakespeare if it can be
// found and else Newton's Opticks from the Go toolchain.
func loadText(c Config) (*Data, error) {
	path := c.DataDir
	if path != "" {
		if st, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("train: text: %w", err)
		} else if st.IsDir() {
			path = filepath.Join(path, data.TinyShakespeareFile)
		}
	} else if p, err := data.TinyShakespearePath(""); err == nil {
		path = p
	}
	t, err := data.LoadText(path, data.TextOptions{})
	if err != nil {
		return nil, err
	}
	if c.Limit > 0 && len(t.Train) > c.Limit {
		t.Train = t.Train[:c.Limit]
		if len(t.Val) > c.Limit {
			t.Val = t.Val[:c.Limit]
		}
	}
	return &Data{Name: filepath.Base(t.Name), Text: t}, nil
}
