package data

import (
	"path/filepath"
	"testing"
)

// Anchor: none (I/O and decoding); these time the full loads.

func BenchmarkLoadMNIST(b *testing.B) {
	dir, err := MNISTDir("")
	if err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, _, err := LoadMNIST(dir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadCIFAR10JPEG(b *testing.B) {
	d := sharedData(b)
	if d == "" {
		b.Skip("shared data directory not found")
	}
	for b.Loop() {
		if _, _, err := LoadCIFAR10(filepath.Join(d, CIFAR10JPEGArchive), CIFAROptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
