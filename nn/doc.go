// Package nn is gradus's neural-network layer: modules with parameters
// named like PyTorch state-dict keys, initialized like PyTorch's defaults,
// and differentiated by package ad.
//
// # Modules, parameters and contexts
//
// A Module maps a Var to a Var (Forward) and lists its trainable
// parameters (Params) as Param values: a PyTorch state-dict name relative
// to the module ("weight", "0.bias", "layer1.0.conv1.weight") and the
// tensor, which optimizers update in place. Modules with non-trainable
// state (BatchNorm's running statistics) also implement Buffered.
//
// Forward takes a *Ctx, which says whether the model trains (BatchNorm uses
// batch statistics and updates its running ones, Dropout drops, drawing from
// the Ctx's RNG) or evaluates, and which holds the Vars standing for the
// parameters: Ctx.Watch puts every parameter of a model on a tape, and
// layers read their parameters through Ctx.Param (a constant when not
// watched). A nil *Ctx evaluates with constant parameters. One training
// step:
//
//	params := nn.Tensors(model.Params())
//	tape, _ := ad.NewTape(nil)
//	ctx := nn.NewCtx(nn.Train, rng)
//	vars := ctx.Watch(tape, model)
//	loss := ad.CrossEntropy(model.Forward(ctx, ad.Const(x)), labels)
//	grads, err := tape.Backward(loss, nil, vars...)
//	...
//	err = opt.Step(params, nn.Values(grads))
//
// # Names
//
// Names follow PyTorch's for the equivalent torch.nn module, so state
// dicts move between the two (through safetensors): a container prefixes
// the names of its children with the child's attribute name or index and a
// dot. Sequential numbers its children from 0, activations and pooling
// included, so the MLP 784-512-512-10 is
//
//	0.weight [512 784]  0.bias [512]  (1 is the ReLU)
//	2.weight [512 512]  2.bias [512]
//	4.weight [10 512]   4.bias [10]
//
// Linear weights are [out, in] and Conv2d weights [out, in, kh, kw], as in
// PyTorch. BatchNorm contributes weight and bias (parameters) and
// running_mean, running_var and num_batches_tracked (buffers). The models
// document their names: the CIFAR ResNet-18 and VGG11 follow the widely used
// kuangliu/pytorch-cifar definitions, the GPT model nanoGPT's.
//
// Randomness comes from explicit *tensor.RNG values: the constructors draw
// initial values from the one they are given, in the order the parameters
// are listed; Dropout draws from the Ctx's.
package nn
