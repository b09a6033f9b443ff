// Package kernels holds the numeric kernels under gradus's tensors: GEMM and
// the vector loops that dominate training. The API is slice based
// (row-major, with leading dimensions) so it carries no dependency on the
// tensor package.
package kernels
