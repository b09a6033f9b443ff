// Package data loads the data sets gradus trains on and turns them into
// mini-batches.
//
// Image and table data sets are held in a Dataset: the examples as float32
// values in one row-major slice, the shape of one example, and integer class
// labels (or real regression targets). Loaders exist for MNIST and
// Fashion-MNIST (IDX files, gzipped or raw), CIFAR-10 (the official binary
// batches, in a directory or in their tar.gz, and the JPEG copy of the data
// set in a tar.gz), numeric CSV tables and Weka's ARFF tables. Image pixels are scaled to [0, 1];
// Normalize and Rescale apply per-channel standardization or min-max
// scaling. A Batcher cuts a Dataset into mini-batch tensors of a chosen
// dtype, shuffling deterministically from a seed, optionally augmenting
// images (random crop with padding, horizontal flip) and reusing its
// buffers.
//
// Text for character-level language models is held in a Text: a character
// Vocab (sorted unique runes or bytes), the encoded training and validation
// parts (a contiguous split), and a WindowSampler that draws random context
// windows x with their targets y, x shifted by one.
//
// The functions MNISTDir, FashionMNISTDir, CIFAR10Path, OpticksPath and
// TinyShakespearePath find the files in their usual places (the Go module
// cache for MNIST, Debian's /usr/share/datasets, the directory named by the
// GRADUS_DATA environment variable, the Go toolchain's own test data) and,
// when a file is missing, say how to get it.
//
// Nothing in this package uses the network or prints. Every function that
// reads a file returns an error naming the file and what was wrong with it;
// malformed input never causes a panic.
package data
