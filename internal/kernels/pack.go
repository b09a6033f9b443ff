package kernels

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
			for p := 0; p < kc; p++ {
				src := a[(p0+p)*lda+ib : (p0+p)*lda+ib+rows]
				d := dst[p*mr : p*mr+mr]
				copy(d, src)
				clear(d[rows:])
			}
			continue
		}
		for r := 0; r < rows; r++ {
			src := a[(ib+r)*lda+p0 : (ib+r)*lda+p0+kc]
			for p, v := range src {
				dst[p*mr+r] = v
			}
		}
		for r := rows; r < mr; r++ {
			for p := 0; p < kc; p++ {
				dst[p*mr+r] = 0
			}
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
