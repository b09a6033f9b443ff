package nn

import (
	"fmt"
	"math"
	"strings"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// GPTConfig configures the GPT-style character language model.
type GPTConfig struct {
	Vocab   int // number of token ids
	Context int // longest sequence (number of positions)
	Layers  int // transformer blocks
	Heads   int // attention heads; Width must be a multiple
	Width   int // embedding width D
	// InitStd, when positive, initializes as nanoGPT does instead of with
	// PyTorch's defaults: Linear and Embedding weights N(0, InitStd²), the
	// residual projections (attn.c_proj, mlp.c_proj) N(0, InitStd²/(2·Layers)),
	// biases 0. nanoGPT uses 0.02.
	InitStd float64
}

func (c GPTConfig) validate() error {
	if c.Vocab < 1 || c.Context < 1 || c.Layers < 0 || c.Heads < 1 || c.Width < 1 || c.Width%c.Heads != 0 || c.InitStd < 0 {
		return fmt.Errorf("nn: invalid GPT config %+v (positive sizes, Width a multiple of Heads)", c)
	}
	return nil
}

// Block is a pre-LayerNorm transformer block:
// x + attn(ln_1(x)), then x + mlp.c_proj(gelu(mlp.c_fc(ln_2(x)))), the MLP
// 4·D wide. Names: ln_1.*, attn.c_attn.*, attn.c_proj.*, ln_2.*,
// mlp.c_fc.*, mlp.c_proj.*.
type Block struct {
	LN1      *LayerNorm
	Attn     *CausalSelfAttention
	LN2      *LayerNorm
	FC, Proj *Linear
}

// Forward maps [B, T, D] to [B, T, D].
func (b *Block) Forward(c *Ctx, x *ad.Var) *ad.Var {
	x = ad.Add(x, b.Attn.Forward(c, b.LN1.Forward(c, x)))
	return ad.Add(x, b.Proj.Forward(c, ad.GELU(b.FC.Forward(c, b.LN2.Forward(c, x)))))
}

// Params lists the block's parameters.
func (b *Block) Params() []Param {
	return childParams(child{"ln_1", b.LN1}, child{"attn", b.Attn}, child{"ln_2", b.LN2}, child{"mlp.c_fc", b.FC}, child{"mlp.c_proj", b.Proj})
}

// GPT is a decoder-only transformer over token ids, named as nanoGPT:
// transformer.wte.weight (token embedding [Vocab, D]),
// transformer.wpe.weight (position embedding [Context, D]),
// transformer.h.<i>.* (Blocks), transformer.ln_f.* (final LayerNorm) and
// lm_head.weight ([Vocab, D], no bias, not tied to wte).
type GPT struct {
	Config GPTConfig
	WTE    *Embedding
	WPE    *Embedding
	Blocks []*Block
	LNF    *LayerNorm
	LMHead *Linear
}

// NewGPT returns a GPT model.
func NewGPT(rng *tensor.RNG, d tensor.DType, cfg GPTConfig) (*GPT, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	D := cfg.Width
	m := &GPT{Config: cfg, WTE: NewEmbedding(rng, d, cfg.Vocab, D), WPE: NewEmbedding(rng, d, cfg.Context, D)}
	for i := 0; i < cfg.Layers; i++ {
		m.Blocks = append(m.Blocks, &Block{
			LN1:  NewLayerNorm(d, D),
			Attn: NewCausalSelfAttention(rng, d, D, cfg.Heads),
			LN2:  NewLayerNorm(d, D),
			FC:   NewLinear(rng, d, D, 4*D, true),
			Proj: NewLinear(rng, d, 4*D, D, true),
		})
	}
	m.LNF = NewLayerNorm(d, D)
	m.LMHead = NewLinear(rng, d, D, cfg.Vocab, false)
	if s := cfg.InitStd; s > 0 {
		normal := func(t *tensor.Tensor, std float64) { t.CopyFrom(tensor.Scale(rng.Normal(d, t.Shape()...), std)) }
		for _, p := range m.Params() {
			switch {
			case p.Value.Dims() == 1 && strings.HasSuffix(p.Name, ".bias"):
				p.Value.Fill(0)
			case strings.HasSuffix(p.Name, "c_proj.weight"):
				normal(p.Value, s/math.Sqrt(2*float64(cfg.Layers)))
			case p.Value.Dims() == 2:
				normal(p.Value, s)
			}
		}
	}
	return m, nil
}

// Logits returns the next-token logits [B, T, Vocab] for ids laid out as
// [B, T] (T ≤ Context). It panics on an id outside [0, Vocab) or T too long.
func (m *GPT) Logits(c *Ctx, ids []int, b, t int) *ad.Var {
	if b*t != len(ids) || t < 1 || t > m.Config.Context {
		panic(fmt.Sprintf("nn.GPT: %d ids for batch %d × length %d (context %d)", len(ids), b, t, m.Config.Context))
	}
	pos := make([]int, t)
	for i := range pos {
		pos[i] = i
	}
	x := ad.Add(m.WTE.Lookup(c, ids, b, t), m.WPE.Lookup(c, pos, t))
	for _, blk := range m.Blocks {
		x = blk.Forward(c, x)
	}
	return m.LMHead.Forward(c, m.LNF.Forward(c, x))
}

// Forward maps x [B, T], holding token ids, to logits [B, T, Vocab].
func (m *GPT) Forward(c *Ctx, x *ad.Var) *ad.Var {
	s := x.Shape()
	if len(s) != 2 {
		panic(fmt.Sprintf("nn.GPT: input %v is not [B, T]", s))
	}
	return m.Logits(c, IDs(x.Value()), s[0], s[1])
}

// Loss returns the mean cross-entropy of the next-token predictions for ids
// [B, T] against targets [B, T] (usually ids shifted by one).
func (m *GPT) Loss(c *Ctx, ids, targets []int, b, t int) *ad.Var {
	logits := m.Logits(c, ids, b, t)
	return ad.CrossEntropy(ad.Reshape(logits, b*t, m.Config.Vocab), targets)
}

// Params lists the parameters in nanoGPT's order.
func (m *GPT) Params() []Param {
	cs := []child{{"transformer.wte", m.WTE}, {"transformer.wpe", m.WPE}}
	for i, b := range m.Blocks {
		cs = append(cs, child{fmt.Sprintf("transformer.h.%d", i), b})
	}
	cs = append(cs, child{"transformer.ln_f", m.LNF}, child{"lm_head", m.LMHead})
	return childParams(cs...)
}
