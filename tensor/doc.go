// Package tensor provides dense, row-major n-dimensional arrays of float64,
// float32 and emulated 16-bit floats (Float16, BFloat16), with NumPy
// broadcasting, elementwise math, reductions, matrix products and the
// indexing operations automatic differentiation needs.
//
// Tensors are values: every operation returns a new tensor and never
// modifies its inputs, except the methods that say so (Set, SetFlat, Fill,
// CopyFrom). Reshape, Squeeze, Unsqueeze and Flatten return tensors that
// share their operand's storage. Emulated 16-bit tensors store float32 and
// round every output to their format (round to nearest, ties to even), so a
// float16 program reproduces the bits of hardware that accumulates in
// float32 and stores float16.
//
// Arrays move to and from NumPy and PyTorch through NPY/NPZ (WriteNPY,
// ReadNPY, WriteNPZ, ReadNPZ) and safetensors (WriteSafetensors,
// ReadSafetensors, SaveSafetensorsFile, LoadSafetensorsFile); readers
// validate their input and return errors, never panic.
//
// Misuse of tensor math (a shape or dtype mismatch, an axis out of range)
// panics with a message naming the operation and the shapes, as gonum does.
// Random numbers always come from an explicit *RNG.
package tensor
