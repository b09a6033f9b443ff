package kernels

import "fmt"

// 2-D convolution over GEMM.
//
// An image is one NCHW sample: c channels of h×w, row-major, element
// (ci, y, x) at src[(ci*h+y)*w+x]. The kernel is kh×kw with strides sh, sw,
// zero padding ph, pw on both sides and dilations dh, dw. The output size is
// ConvOutSize(h, kh, sh, ph, dh) × ConvOutSize(w, kw, sw, pw, dw).
//
// Column layout: Im2Col writes a (c·kh·kw) × (outH·outW) row-major matrix.
// Row (ci*kh+ki)*kw+kj, column oy*outW+ox holds the input element
// (ci, oy*sh−ph+ki*dh, ox*sw−pw+kj*dw), or 0 where that falls in the
// padding. A convolution with weights W (outC × c·kh·kw, the PyTorch
// layout flattened) is then the product W·cols (outC × outH·outW), and its
// input gradient is Col2Im(Wᵀ·dY).

// ConvOutSize returns the output length of a convolution along one axis:
// (in + 2·pad − dil·(k−1) − 1)/stride + 1, or 0 if the kernel does not fit.
func ConvOutSize(in, k, stride, pad, dil int) int {
	span := dil*(k-1) + 1
	if in+2*pad < span {
		return 0
	}
	return (in+2*pad-span)/stride + 1
}

// Im2Col64 unrolls the image src (c×h×w) into dst, the
// (c·kh·kw) × (outH·outW) column matrix described above; every element of
// dst is written.
func Im2Col64(dst, src []float64, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw int) {
	im2col("Im2Col64", dst, src, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw)
}

// Im2Col32 is Im2Col64 for float32.
func Im2Col32(dst, src []float32, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw int) {
	im2col("Im2Col32", dst, src, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw)
}

// Col2Im64 is the adjoint of Im2Col64: it adds every element of the column
// matrix src to the image element it was taken from, accumulating into dst
// (c×h×w). Entries that came from the padding are dropped.
func Col2Im64(dst, src []float64, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw int) {
	col2im("Col2Im64", dst, src, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw)
}

// Col2Im32 is Col2Im64 for float32.
func Col2Im32(dst, src []float32, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw int) {
	col2im("Col2Im32", dst, src, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw)
}

// convGeom checks the parameters and returns the output size.
func convGeom(name string, nimg, ncol, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw int) (oh, ow int) {
	if c < 0 || h < 0 || w < 0 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || ph < 0 || pw < 0 || dh < 1 || dw < 1 {
		panic(fmt.Sprintf("kernels.%s: invalid geometry c=%d h=%d w=%d kernel %d×%d stride %d×%d pad %d×%d dilation %d×%d",
			name, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw))
	}
	oh, ow = ConvOutSize(h, kh, sh, ph, dh), ConvOutSize(w, kw, sw, pw, dw)
	if nimg < c*h*w {
		panic(fmt.Sprintf("kernels.%s: image has %d elements, need %d (%d×%d×%d)", name, nimg, c*h*w, c, h, w))
	}
	if need := c * kh * kw * oh * ow; ncol < need {
		panic(fmt.Sprintf("kernels.%s: column matrix has %d elements, need %d (%d×%d)", name, ncol, need, c*kh*kw, oh*ow))
	}
	return oh, ow
}

// validRange returns the output indices o in [lo, hi) for which
// o*s − p + off lies inside [0, n).
func validRange(out, n, s, p, off int) (lo, hi int) {
	// o*s >= p-off  and  o*s <= n-1+p-off
	lo = 0
	if d := p - off; d > 0 {
		lo = (d + s - 1) / s
	}
	hi = out
	if d := n - 1 + p - off; d < 0 {
		hi = 0
	} else if m := d/s + 1; m < hi {
		hi = m
	}
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

func im2col[T float32 | float64](name string, dst, src []T, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw int) {
	oh, ow := convGeom(name, len(src), len(dst), c, h, w, kh, kw, sh, sw, ph, pw, dh, dw)
	if oh == 0 || ow == 0 {
		return
	}
	npix := oh * ow
	for ci := 0; ci < c; ci++ {
		img := src[ci*h*w : (ci+1)*h*w]
		for ki := 0; ki < kh; ki++ {
			ylo, yhi := validRange(oh, h, sh, ph, ki*dh)
			for kj := 0; kj < kw; kj++ {
				row := dst[((ci*kh+ki)*kw+kj)*npix:][:npix]
				xlo, xhi := validRange(ow, w, sw, pw, kj*dw)
				clear(row[:ylo*ow])
				clear(row[yhi*ow:])
				for oy := ylo; oy < yhi; oy++ {
					out := row[oy*ow : (oy+1)*ow]
					clear(out[:xlo])
					clear(out[xhi:])
					if xlo >= xhi {
						continue
					}
					iy := oy*sh - ph + ki*dh
					x0 := xlo*sw - pw + kj*dw
					in := img[iy*w : (iy+1)*w]
					if sw == 1 {
						copy(out[xlo:xhi], in[x0:])
						continue
					}
					for ox, x := xlo, x0; ox < xhi; ox, x = ox+1, x+sw {
						out[ox] = in[x]
					}
				}
			}
		}
	}
}

func col2im[T float32 | float64](name string, dst, src []T, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw int) {
	oh, ow := convGeom(name, len(dst), len(src), c, h, w, kh, kw, sh, sw, ph, pw, dh, dw)
	if oh == 0 || ow == 0 {
		return
	}
	npix := oh * ow
	for ci := 0; ci < c; ci++ {
		img := dst[ci*h*w : (ci+1)*h*w]
		for ki := 0; ki < kh; ki++ {
			ylo, yhi := validRange(oh, h, sh, ph, ki*dh)
			for kj := 0; kj < kw; kj++ {
				row := src[((ci*kh+ki)*kw+kj)*npix:][:npix]
				xlo, xhi := validRange(ow, w, sw, pw, kj*dw)
				if xlo >= xhi {
					continue
				}
				for oy := ylo; oy < yhi; oy++ {
					in := row[oy*ow : (oy+1)*ow]
					iy := oy*sh - ph + ki*dh
					x0 := xlo*sw - pw + kj*dw
					out := img[iy*w : (iy+1)*w]
					if sw == 1 {
						o := out[x0 : x0+xhi-xlo]
						for i, v := range in[xlo:xhi] {
							o[i] += v
						}
						continue
					}
					for ox, x := xlo, x0; ox < xhi; ox, x = ox+1, x+sw {
						out[x] += in[ox]
					}
				}
			}
		}
	}
}
