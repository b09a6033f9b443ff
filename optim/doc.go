// Package optim updates parameter tensors in place from their gradients:
// SGD (momentum, Nesterov), RMSprop, Adam, AdamW, INNA and INNAprop, with
// learning-rate schedules, global-norm gradient clipping and state save and
// load.
//
// Every optimizer implements [Optimizer]. A step reads the gradients and
// overwrites the parameters; the moment buffers are allocated at the first
// step, after which Step allocates nothing. Parameters may be Float64,
// Float32 or the emulated Float16 and BFloat16 (their updated values are
// re-rounded to the format). Gradients must be stored like their parameters
// (Float64 with Float64, the float32-backed dtypes with one another).
// Optimizer state is Float32 by default; set the config field State to
// State64 for Float64 buffers. Arithmetic runs in float64 whenever the
// parameters or the state are float64, and in float32 otherwise.
//
// Configs follow Go convention: a field left at zero takes its documented
// default. Where the default is not zero but zero is a legitimate value (a
// weight decay, a momentum coefficient, an epsilon), set the field to
// [Zero] to ask for exactly zero. Constructors validate the config and
// return an error naming the offending field.
//
// INNAprop and INNA follow the reference implementation of Bolte, Boustany,
// Pauwels and Purica (innaprop/innaprop, innaprop.py and inna.py) operation
// by operation, so float64 runs reproduce it to the last bit or two.
package optim
