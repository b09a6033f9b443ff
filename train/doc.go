// Package train is gradus's training loop: it trains the models of package
// nn (MLP, CNN, VGG11, ResNet-18, GPT) on the data sets of package data
// with the optimizers and schedules of package optim, evaluates them,
// records metrics, draws the curves and saves checkpoints that resume bit
// for bit.
//
// A run is described by a Config (model, data, optimizer and its
// hyperparameters, schedule, epochs, batch, seed, dtype, ReLU'(0), …);
// zero fields take documented defaults, filled in by WithDefaults, and the
// resolved config is stored with the results. Run trains it:
//
//	sum, err := train.Run(ctx, train.Config{Model: "mlp", Data: "mnist"},
//		train.Options{Out: "runs/mlp", Progress: func(p train.Progress) { … }})
//
// Run never prints: it reports through the Progress callback, on the
// training goroutine, after every step, evaluation and checkpoint. In the
// output directory it writes metrics.csv (epoch, step, mean training loss
// since the previous row, learning rate, seconds), eval.csv (test loss and
// accuracy, or for text the validation loss in nats per character),
// summary.json (the Summary, with the full config), curves.png,
// checkpoint.safetensors and, at the end, model.safetensors (the weights
// alone, under their PyTorch state-dict names).
//
// # Checkpoints and resuming
//
// The checkpoint is one safetensors file written atomically: the state
// dict, the optimizer buffers under the prefix "optimizer.", and in the
// metadata the optimizer's step count and hyperparameters and the run's
// config, position and history. Nothing random is carried over in a
// generator's state: the order and augmentation of epoch e are drawn from
// a generator seeded by (seed, e), dropout masks of step k from one seeded
// by (seed, k), and the text windows of a language model are replayed from
// the start. So a run cancelled through its context (it then saves a
// checkpoint at the current step) and resumed with Options.Resume ends
// with weights bit-identical to an uninterrupted run's, given the same
// number of kernel threads.
//
// Compare trains one config with several optimizers from the same
// initialization and draws their curves in one figure.
package train
