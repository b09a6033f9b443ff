package optim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gradus-ml/gradus/tensor"
)

// State is a snapshot of an optimizer: which method, how many steps it has
// taken, its hyperparameters (JSON, the current learning rate included) and
// its buffers, named "<buffer>.<parameter index>" (for example
// "exp_avg_sq.3"). Export turns it into tensors and string metadata that
// fit in a safetensors file next to the weights; Import reads them back.
type State struct {
	Optimizer string
	Step      int
	Config    json.RawMessage
	Tensors   map[string]*tensor.Tensor
}

// snapshot builds the State of c with hyperparameters cfg.
func (c *core) snapshot(cfg any) *State {
	js, err := json.Marshal(cfg)
	if err != nil {
		// Configs are plain structs of numbers; this cannot happen.
		panic("optim: encoding config: " + err.Error())
	}
	s := &State{Optimizer: c.kind, Step: c.t, Config: js, Tensors: map[string]*tensor.Tensor{}}
	bufs := c.bufs
	if bufs == nil {
		bufs = c.loaded
	}
	for i, row := range bufs {
		for k, t := range row {
			s.Tensors[c.names[k]+"."+strconv.Itoa(i)] = t.Clone()
		}
	}
	return s
}

// decode checks the method name and step count of s and strictly decodes
// its config into cfg.
func (c *core) decode(s *State, cfg any) error {
	if s == nil {
		return fmt.Errorf("optim: %s: Load of a nil state", c.kind)
	}
	if s.Optimizer != c.kind {
		return fmt.Errorf("optim: %s: Load of a state saved by %q", c.kind, s.Optimizer)
	}
	if s.Step < 0 {
		return fmt.Errorf("optim: %s: Load of a state with step count %d", c.kind, s.Step)
	}
	dec := json.NewDecoder(bytes.NewReader(s.Config))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return fmt.Errorf("optim: %s: decoding state config: %w", c.kind, err)
	}
	return nil
}

// install takes the buffers, step count, learning rate and precision of a
// state whose config the caller has decoded and validated; names are the
// buffer names that config implies. On error c is unchanged.
func (c *core) install(s *State, names []string, lr float64, prec Precision) error {
	bufs, err := parseBufs(c.kind, s, names, prec)
	if err != nil {
		return err
	}
	c.lr, c.t, c.prec, c.names, c.bufs, c.loaded = lr, s.Step, prec, names, nil, bufs
	return nil
}

// parseBufs checks the tensors of s against the buffer names and the state
// precision and returns them (copied) as bufs[param][buffer].
func parseBufs(kind string, s *State, names []string, prec Precision) ([][]*tensor.Tensor, error) {
	if len(names) == 0 || s.Step == 0 {
		if len(s.Tensors) != 0 {
			keys := make([]string, 0, len(s.Tensors))
			for k := range s.Tensors {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if len(names) == 0 {
				return nil, fmt.Errorf("optim: %s: state has tensors %q but this configuration keeps no buffers", kind, keys)
			}
			return nil, fmt.Errorf("optim: %s: state at step 0 has tensors %q", kind, keys)
		}
		return nil, nil
	}
	n := -1
	for key, t := range s.Tensors {
		dot := strings.LastIndexByte(key, '.')
		idx, err := strconv.Atoi(key[dot+1:])
		if dot < 0 || err != nil || idx < 0 || strconv.Itoa(idx) != key[dot+1:] {
			return nil, fmt.Errorf("optim: %s: state tensor %q is not named <buffer>.<index>", kind, key)
		}
		name := key[:dot]
		known := false
		for _, nm := range names {
			known = known || nm == name
		}
		if !known {
			return nil, fmt.Errorf("optim: %s: unknown state tensor %q (buffers are %q)", kind, key, names)
		}
		if t == nil {
			return nil, fmt.Errorf("optim: %s: state tensor %q is nil", kind, key)
		}
		if t.DType() != prec.DType() {
			return nil, fmt.Errorf("optim: %s: state tensor %q is %v, the config says %v", kind, key, t.DType(), prec)
		}
		n = max(n, idx)
	}
	n++
	if n == 0 {
		return nil, fmt.Errorf("optim: %s: state at step %d has no buffers", kind, s.Step)
	}
	bufs := make([][]*tensor.Tensor, n)
	for i := range bufs {
		bufs[i] = make([]*tensor.Tensor, len(names))
		for k, nm := range names {
			key := nm + "." + strconv.Itoa(i)
			t, ok := s.Tensors[key]
			if !ok {
				return nil, fmt.Errorf("optim: %s: state tensor %q is missing", kind, key)
			}
			if k > 0 && !tensor.SameShape(t, bufs[i][0]) {
				return nil, fmt.Errorf("optim: %s: state tensor %q has shape %v, %q has %v", kind, key, t.Shape(), names[0]+"."+strconv.Itoa(i), bufs[i][0].Shape())
			}
			bufs[i][k] = t.Clone()
		}
	}
	return bufs, nil
}

// metaKey is the safetensors metadata key of an exported state.
func metaKey(prefix string) string { return "gradus.optim:" + prefix }

type exported struct {
	Optimizer string          `json:"optimizer"`
	Step      int             `json:"step"`
	Config    json.RawMessage `json:"config"`
}

// Export returns the buffers of s under prefix+name (for example
// "optim.exp_avg.0" with prefix "optim.") and one metadata entry holding
// the method, step count and config, ready to be written to a safetensors
// file beside the model weights. The tensors are shared with s.
func (s *State) Export(prefix string) (map[string]*tensor.Tensor, map[string]string) {
	ts := make(map[string]*tensor.Tensor, len(s.Tensors))
	for k, t := range s.Tensors {
		ts[prefix+k] = t
	}
	js, err := json.Marshal(exported{s.Optimizer, s.Step, s.Config})
	if err != nil {
		panic("optim: encoding state: " + err.Error())
	}
	return ts, map[string]string{metaKey(prefix): string(js)}
}

// Import rebuilds a State written by Export from the tensors and metadata
// of a file. Tensors whose names do not start with prefix are ignored (they
// are the weights), so prefix must be one that no weight name starts with.
func Import(prefix string, tensors map[string]*tensor.Tensor, metadata map[string]string) (*State, error) {
	js, ok := metadata[metaKey(prefix)]
	if !ok {
		return nil, fmt.Errorf("optim: Import: no optimizer state under metadata key %q", metaKey(prefix))
	}
	var e exported
	dec := json.NewDecoder(strings.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("optim: Import: decoding metadata %q: %w", metaKey(prefix), err)
	}
	s := &State{Optimizer: e.Optimizer, Step: e.Step, Config: e.Config, Tensors: map[string]*tensor.Tensor{}}
	for k, t := range tensors {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			s.Tensors[name] = t
		}
	}
	return s, nil
}
