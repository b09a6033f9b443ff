// Package optim updates parameter tensors in place from their gradients:
// SGD (momentum, Nesterov), RMSprop, Adam, AdamW, INNA and INNAprop, with
// learning-rate schedules, global-norm gradient clipping and state save and
// load.
//
// Every optimizer implements [Optimizer]. A step reads the gradients and
// overwrites the parameters in one fused loop per tensor; the state buffers
// are allocated at the first step, after which Step allocates nothing.
// Large steps are split into chunks shared by up to GOMAXPROCS goroutines
// (the result does not depend on the split). Parameters may be Float64,
// Float32 or the emulated Float16 and BFloat16 (their updated values are
// re-rounded to the format). Gradients must be stored like their
// parameters (Float64 with Float64, the float32-backed dtypes with one
// another). Optimizer state is float32 by default; set the config field
// State to [State64] for float64 buffers. Arithmetic runs in float64
// whenever the parameters or the state are float64, and in float32
// otherwise.
//
// Configs follow Go convention: a field left at zero takes its documented
// default. Where the default is not zero but zero is a legitimate value (a
// weight decay, β₁, ε), set the field to [Zero] to ask for exactly zero.
// Constructors validate the config and return an error naming the
// offending field. WeightDecay is always decoupled (θ ← θ(1−lr·wd), as
// AdamW); L2, where offered, is the coupled term added to the gradient (the
// weight_decay of PyTorch's SGD, RMSprop and Adam).
//
// The learning rate is read at every step: drive it with a [Schedule],
//
//	opt.SetLR(sched.LR(opt.Steps()))
//
// State returns a snapshot (step count, hyperparameters as JSON, buffers);
// [State.Export] and [Import] map it to tensors and metadata for a
// safetensors file beside the weights, and a run resumed with Load
// continues bit for bit as if it had not stopped.
//
// INNAprop and INNA follow the reference implementation of Bolte, Boustany,
// Pauwels and Purica (innaprop/innaprop: innaprop.py and inna.py) operation
// by operation, with bias corrections computed as correctly rounded powers,
// so float64 runs reproduce the reference's golden values bit for bit.
package optim
