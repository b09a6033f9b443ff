package kernels

import "unsafe"

// packRowsGo copies rows rows of width bytes (64 or 128), stride bytes
// apart in src, to dst contiguously: one packed B micro-panel whose row is
// one 64- or 128-byte line (nr = 8 or 16 float64, 16 or 32 float32, the
// widths of the assembly kernels). Word moves avoid a memmove call per row.
func packRowsGo(dst, src unsafe.Pointer, rows, stride, width int) {
	for p := 0; p < rows; p++ {
		for off := 0; off < width; off += 64 {
			s := (*[8]uint64)(unsafe.Add(src, p*stride+off))
			d := (*[8]uint64)(unsafe.Add(dst, p*width+off))
			d[0], d[1], d[2], d[3] = s[0], s[1], s[2], s[3]
			d[4], d[5], d[6], d[7] = s[4], s[5], s[6], s[7]
		}
	}
}

// copyWords copies rows rows of words 8-byte words, stride bytes apart in
// src, to dst contiguously: a packed micro-panel whose rows are not the 64
// or 128 bytes of packRows. A word loop beats a memmove call per short row.
func copyWords(dst, src unsafe.Pointer, rows, stride, words int) {
	for p := 0; p < rows; p++ {
		s := unsafe.Slice((*uint64)(unsafe.Add(src, p*stride)), words)
		d := unsafe.Slice((*uint64)(unsafe.Add(dst, p*words*8)), words)
		for i := range d {
			d[i] = s[i]
		}
	}
}

// packA copies the mc×kc block of op(A) at rows i0.., columns p0.. into ap
// as ceil(mc/mr) micro-panels of mr rows: panel q holds element (q*mr+r, p)
// at ap[q*mr*kc + p*mr + r]. Rows past mc are zero.
func packA[T float32 | float64](transA bool, a []T, lda, i0, mc, p0, kc, mr int, ap []T) {
	for q := 0; q*mr < mc; q++ {
		rows := min(mr, mc-q*mr)
		dst := ap[q*mr*kc : (q+1)*mr*kc]
		ib := i0 + q*mr
		if transA {
			// A is stored k×m: row p of the panel is contiguous in A.
			if w := mr * int(unsafe.Sizeof(a[0])); rows == mr && w%8 == 0 {
				_ = a[(p0+kc-1)*lda+ib+mr-1] // bounds of the last row
				_ = dst[kc*mr-1]
				copyWords(unsafe.Pointer(&dst[0]), unsafe.Pointer(&a[p0*lda+ib]), kc, lda*int(unsafe.Sizeof(a[0])), w/8)
				continue
			}
			for p := 0; p < kc; p++ {
				src := a[(p0+p)*lda+ib : (p0+p)*lda+ib+rows]
				d := dst[p*mr : p*mr+mr]
				copy(d, src)
				clear(d[rows:])
			}
			continue
		}
		if rows == mr && mr%4 == 0 {
			for r := 0; r < mr; r += 4 {
				interleave4(a[(ib+r)*lda+p0:], lda, kc, dst[r:], mr)
			}
			continue
		}
		if rows == mr && mr%6 == 0 {
			for r := 0; r < mr; r += 6 {
				interleave6(a[(ib+r)*lda+p0:], lda, kc, dst[r:], mr)
			}
			continue
		}
		// a partial panel: groups of four rows interleaved, then single
		// rows, then the zero rows, each written row-contiguous per p
		r := 0
		if mr%4 == 0 {
			for ; r+4 <= rows; r += 4 {
				interleave4(a[(ib+r)*lda+p0:], lda, kc, dst[r:], mr)
			}
		}
		for ; r < rows; r++ {
			src := a[(ib+r)*lda+p0 : (ib+r)*lda+p0+kc]
			for p, v := range src {
				dst[p*mr+r] = v
			}
		}
		for p := 0; p < kc; p++ {
			clear(dst[p*mr+rows : p*mr+mr])
		}
	}
}

// packB copies the kc×nc block of op(B) at rows p0.., columns j0.. into bp
// as ceil(nc/nr) micro-panels of nr columns: panel q holds element
// (p, q*nr+j) at bp[q*nr*kc + p*nr + j]. Columns past nc are zero.
func packB[T float32 | float64](transB bool, b []T, ldb, p0, kc, j0, nc, nr int, bp []T) {
	for q := 0; q*nr < nc; q++ {
		cols := min(nr, nc-q*nr)
		dst := bp[q*nr*kc : (q+1)*nr*kc]
		jb := j0 + q*nr
		if width := nr * int(unsafe.Sizeof(b[0])); !transB && cols == nr && (width == 64 || width == 128) {
			_ = b[(p0+kc-1)*ldb+jb+nr-1] // bounds of the last row
			_ = dst[kc*nr-1]
			packRows(unsafe.Pointer(&dst[0]), unsafe.Pointer(&b[p0*ldb+jb]), kc, ldb*int(unsafe.Sizeof(b[0])), width)
			continue
		}
		if w := nr * int(unsafe.Sizeof(b[0])); !transB && cols == nr && w%8 == 0 {
			_ = b[(p0+kc-1)*ldb+jb+nr-1]
			_ = dst[kc*nr-1]
			copyWords(unsafe.Pointer(&dst[0]), unsafe.Pointer(&b[p0*ldb+jb]), kc, ldb*int(unsafe.Sizeof(b[0])), w/8)
			continue
		}
		if !transB {
			for p := 0; p < kc; p++ {
				src := b[(p0+p)*ldb+jb : (p0+p)*ldb+jb+cols]
				d := dst[p*nr : p*nr+nr]
				copy(d, src)
				clear(d[cols:])
			}
			continue
		}
		// B is stored n×k: column j of op(B) is row j of B.
		if cols == nr && nr%8 == 0 {
			for j := 0; j < nr; j += 8 {
				interleave8(b[(jb+j)*ldb+p0:], ldb, kc, dst[j:], nr)
			}
			continue
		}
		for j := 0; j < cols; j++ {
			src := b[(jb+j)*ldb+p0 : (jb+j)*ldb+p0+kc]
			for p, v := range src {
				dst[p*nr+j] = v
			}
		}
		for j := cols; j < nr; j++ {
			for p := 0; p < kc; p++ {
				dst[p*nr+j] = 0
			}
		}
	}
}

// interleave6 interleaves six rows (row r at src[r*ld:], kc long) into
// dst with row stride stride: dst[p*stride+r] = src[r*ld+p] for r < 6.
func interleave6[T float32 | float64](src []T, ld, kc int, dst []T, stride int) {
	r0 := src[0*ld : 0*ld+kc]
	r1 := src[1*ld : 1*ld+kc]
	r2 := src[2*ld : 2*ld+kc]
	r3 := src[3*ld : 3*ld+kc]
	r4 := src[4*ld : 4*ld+kc]
	r5 := src[5*ld : 5*ld+kc]
	if kc == 0 {
		return
	}
	_ = dst[(kc-1)*stride+5]
	for p := range r0 {
		d := dst[p*stride : p*stride+6 : p*stride+6]
		d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
	}
}

// interleave8 is interleave6 for eight rows.
func interleave8[T float32 | float64](src []T, ld, kc int, dst []T, stride int) {
	r0 := src[0*ld : 0*ld+kc]
	r1 := src[1*ld : 1*ld+kc]
	r2 := src[2*ld : 2*ld+kc]
	r3 := src[3*ld : 3*ld+kc]
	r4 := src[4*ld : 4*ld+kc]
	r5 := src[5*ld : 5*ld+kc]
	r6 := src[6*ld : 6*ld+kc]
	r7 := src[7*ld : 7*ld+kc]
	if kc == 0 {
		return
	}
	_ = dst[(kc-1)*stride+7]
	done := interleave8Asm(src, ld, kc, dst, stride)
	for p := done; p < kc; p++ {
		d := dst[p*stride : p*stride+8 : p*stride+8]
		d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
		d[4], d[5], d[6], d[7] = r4[p], r5[p], r6[p], r7[p]
	}
}

// interleave4 is interleave6 for four rows.
func interleave4[T float32 | float64](src []T, ld, kc int, dst []T, stride int) {
	r0 := src[0*ld : 0*ld+kc]
	r1 := src[1*ld : 1*ld+kc]
	r2 := src[2*ld : 2*ld+kc]
	r3 := src[3*ld : 3*ld+kc]
	if kc == 0 {
		return
	}
	_ = dst[(kc-1)*stride+3]
	done := interleave4Asm(src, ld, kc, dst, stride)
	for p := done; p < kc; p++ {
		d := dst[p*stride : p*stride+4 : p*stride+4]
		d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
	}
}
