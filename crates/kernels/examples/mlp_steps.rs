//! Times training epochs of the benchmark's MLP (784-256-128-10, relu, softmax cross-entropy,
//! SGD 0.01, batch 128) on 8,192 samples through `Model::train_batches`, the path the bindings
//! take, one epoch per call, so that a profiler sees where a step's time goes. A measurement,
//! not a test: `RAYON_NUM_THREADS=1 cargo run --release --example mlp_steps -p ferronet-kernels
//! --features threads`.

use ferronet_kernels::{
    Activation, BatchRecords, Batches, LayerConfig, Loss, Model, Optimizer, TrainingConfig,
};
use std::time::Instant;

fn main() {
    let (samples, inputs, batch) = (8192, 784, 128);
    // Deterministic values; they do not matter for timing.
    let x: Vec<f32> = (0..samples * inputs)
        .map(|i| (i * 37 % 101) as f32 / 101.0)
        .collect();
    let y: Vec<f32> = (0..samples * 10)
        .map(|i| if i % 10 == (i / 10) % 7 { 1.0 } else { 0.0 })
        .collect();
    let mut model = Model::new(&[inputs]).expect("model");
    for (units, activation) in [
        (256, Activation::Relu),
        (128, Activation::Relu),
        (10, Activation::Softmax),
    ] {
        model
            .add_layer(&LayerConfig::dense(units, activation))
            .expect("layer");
    }
    for index in [0, 2, 4] {
        let count = model.parameter(index).expect("parameter").len();
        let values: Vec<f32> = (0..count).map(|i| ((i * 13 % 17) as f32 - 8.0) / 200.0).collect();
        model.set_parameter(index, &values).expect("parameter");
    }
    model
        .configure_training(TrainingConfig::new(
            Loss::CategoricalCrossEntropy,
            Optimizer::Sgd { learning_rate: 0.01 },
        ))
        .expect("training");
    // A fixed shuffle, as the Trainer's: each batch gathers its rows from the whole set.
    let order: Vec<u32> = (0..samples as u32).map(|i| i * 5_303 % samples as u32).collect();
    let ends: Vec<u32> = (1..=samples / batch).map(|b| (b * batch) as u32).collect();
    let batches = Batches {
        indices: &order,
        ends: &ends,
    };
    let (mut losses, mut correct) = (vec![0.0; ends.len()], vec![0; ends.len()]);
    let mut epoch = || {
        let records = BatchRecords {
            losses: &mut losses,
            correct: &mut correct,
        };
        model
            .train_batches(&x, &y, samples, batches, records)
            .expect("epoch");
    };
    epoch();
    let epochs = 10;
    let start = Instant::now();
    for _ in 0..epochs {
        epoch();
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{epochs} epochs of {samples}: {:.0} samples/s",
        (epochs * samples) as f64 / seconds
    );
}
