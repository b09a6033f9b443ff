#!/usr/bin/python3
"""Writes the NumPy-made test files read by io_npy_test.go and
io_safetensors_test.go. Run from tensor/testdata with python3 and numpy;
the Go tests only read the files and need no Python.

The safetensors file is written with the standard library (json, struct)
following the format description, since the Python safetensors package is
not available as a Debian package here; it lays tensors out in a different
order (by dtype width, then name) than gradus does.
"""
import json
import struct

import numpy as np

np.save("f64.npy", (np.arange(6, dtype="<f8") / 4 - 0.5).reshape(2, 3))
np.save("f32.npy", np.array([1.5, -2.25, np.inf, -np.inf, 0.1, 1e-30], dtype="<f4"))
np.save("f16.npy", np.array([0, -0.0, 1, 65504, 2.0**-24, -2.5, np.inf, 0.1], dtype="<f2").reshape(2, 2, 2))
np.save("scalar.npy", np.float64(3.25))
np.save("empty.npy", np.zeros((0, 3), dtype="<f4"))
np.save("fortran.npy", np.asfortranarray(np.arange(6.0).reshape(2, 3)))
np.save("bigendian.npy", np.arange(3, dtype=">f8"))
np.save("int32.npy", np.arange(3, dtype="<i4"))

a = (np.arange(6, dtype="<f8") / 4 - 0.5).reshape(2, 3)
b = np.array([1, 2, 3], dtype="<f2")
np.savez("arrays.npz", a=a, b=b)
np.savez_compressed("arrays_compressed.npz", a=a, b=b)


def bf16(values):
    bits = np.array(values, dtype="<f4").view("<u4") >> 16
    return bits.astype("<u2").tobytes()


tensors = {
    "double": ("F64", [3], np.array([1.0, -0.5, 1e300], dtype="<f8").tobytes()),
    "weight": ("F32", [2, 3], np.arange(6, dtype="<f4").tobytes()),
    "half": ("F16", [2, 2], np.array([0.5, -1, 65504, 0.1], dtype="<f2").tobytes()),
    "bf": ("BF16", [4], bf16([1.0, -2.0, 0.5, 3.0])),
    "nothing": ("F32", [0, 2], b""),
}
width = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2}
order = sorted(tensors, key=lambda k: (-width[tensors[k][0]], k))
header = {"__metadata__": {"format": "pt", "source": "make_npy.py"}}
data = b""
for k in order:
    dtype, shape, raw = tensors[k]
    header[k] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
with open("numpy.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + data)
