package kernels

import "fmt"

// PackedA is the left operand op(A) (m×k) of products
// C = alpha·op(A)·op(B) + beta·C, packed once for the micro-kernels in use
// when Pack ran, so that a fixed matrix (a convolution weight) multiplied
// by many right-hand sides is not packed again for each. The zero value is
// empty; Pack fills it, reusing its storage.
//
// The layout is the one the blocked driver packs itself: for each kc-deep
// slice of k (kc evened out as in gemmBlock), the ceil(m/mr) micro-panels
// of mr rows, zero-padded, so that the slice starting at column pc begins
// at mP·pc with mP = ceil(m/mr)·mr.
type PackedA[T float32 | float64] struct {
	ks   *kernelSet[T]
	m, k int
	data []T
}

// activeKernels returns the kernel set in use for T.
func activeKernels[T float32 | float64]() *kernelSet[T] {
	var z T
	if _, ok := any(z).(float64); ok {
		return any(kernels64()).(*kernelSet[T])
	}
	return any(kernels32()).(*kernelSet[T])
}

// packedAOffset is the offset in a PackedA of m rows of the block of
// kc-deep slice pc (its first column) and rows ic.. (ic a multiple of mr).
func packedAOffset(m, mr, pc, ic, kc int) int {
	return ceilDiv(m, mr)*mr*pc + ic*kc
}

// Pack packs op(A), which is m×k (A stored k×m when transA), with leading
// dimension lda. It panics if a is too short.
func (p *PackedA[T]) Pack(transA bool, m, k int, a []T, lda int) {
	if m < 0 || k < 0 {
		panic(fmt.Sprintf("kernels.PackedA.Pack: negative dimension m=%d k=%d", m, k))
	}
	rows, cols := m, k
	if transA {
		rows, cols = k, m
	}
	if rows > 0 && cols > 0 {
		if lda < cols {
			panic(fmt.Sprintf("kernels.PackedA.Pack: leading dimension %d less than %d columns", lda, cols))
		}
		if need := (rows-1)*lda + cols; len(a) < need {
			panic(fmt.Sprintf("kernels.PackedA.Pack: A has %d elements, need %d for %d×%d with leading dimension %d", len(a), need, rows, cols, lda))
		}
	}
	ks := activeKernels[T]()
	p.ks, p.m, p.k = ks, m, k
	if m == 0 || k == 0 {
		p.data = p.data[:0]
		return
	}
	mP := ceilDiv(m, ks.mr) * ks.mr
	p.data = grow(p.data, mP*k)
	kcE := ceilDiv(k, ceilDiv(k, ks.kc))
	for pc := 0; pc < k; pc += kcE {
		kc := min(kcE, k-pc)
		packA(transA, a, lda, 0, m, pc, kc, ks.mr, p.data[packedAOffset(m, ks.mr, pc, 0, kc):])
	}
}

// Rows and Cols return the shape m×k of the packed op(A).
func (p *PackedA[T]) Rows() int { return p.m }
func (p *PackedA[T]) Cols() int { return p.k }

// Gemm computes C = alpha·op(A)·op(B) + beta·C with the packed op(A), op(B)
// k×n (B stored n×k when transB). It runs on the calling goroutine only:
// it is meant for callers that share out many products themselves. The
// results are those Gemm32 / Gemm64 would give single-threaded. It panics
// if the slices are too short.
func (p *PackedA[T]) Gemm(transB bool, n int, alpha T, b []T, ldb int, beta T, c []T, ldc int) {
	m, k := p.m, p.k
	checkGemm("PackedA.Gemm", false, transB, m, n, k, (m-1)*k+k, k, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	buf := getBuf[T]()
	gemmBlock(p.ks, false, transB, 0, m, 0, n, k, alpha, nil, 0, b, ldb, beta, c, ldc, buf, p.data)
	putBuf(buf)
}

// GemmSerial is Gemm32 / Gemm64 on the calling goroutine only, always
// through the packed blocked path: for callers that run many products in
// parallel themselves.
func GemmSerial[T float32 | float64](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkGemm("GemmSerial", transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	buf := getBuf[T]()
	gemmBlock(activeKernels[T](), transA, transB, 0, m, 0, n, k, alpha, a, lda, b, ldb, beta, c, ldc, buf, nil)
	putBuf(buf)
}
