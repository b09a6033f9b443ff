package nn

import (
	"strconv"

	"github.com/gradus-ml/gradus/ad"
)

// Sequential applies its layers in order (torch.nn.Sequential); layer i's
// names get the prefix "i.".
type Sequential struct {
	Layers []Module
}

// NewSequential returns a Sequential of the layers.
func NewSequential(layers ...Module) *Sequential { return &Sequential{Layers: layers} }

// Forward applies the layers in order.
func (s *Sequential) Forward(c *Ctx, x *ad.Var) *ad.Var {
	for _, l := range s.Layers {
		x = l.Forward(c, x)
	}
	return x
}

func (s *Sequential) children() []child {
	cs := make([]child, len(s.Layers))
	for i, l := range s.Layers {
		cs[i] = child{strconv.Itoa(i), l}
	}
	return cs
}

// Params lists the layers' parameters, prefixed by their index.
func (s *Sequential) Params() []Param { return childParams(s.children()...) }

// Buffers lists the layers' buffers, prefixed by their index.
func (s *Sequential) Buffers() []Param { return childBuffers(s.children()...) }
