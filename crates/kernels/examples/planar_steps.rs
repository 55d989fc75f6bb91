//! Times full-batch training steps of the planar network (2-4-1 tanh/sigmoid, 400 samples)
//! through `Model::train_batches`, the path the bindings take, one step per call. A
//! measurement, not a test: `cargo run --release --example planar_steps -p ferronet-kernels`.

use ferronet_kernels::{
    Activation, BatchRecords, Batches, LayerConfig, Loss, Model, Optimizer, TrainingConfig,
};
use std::time::Instant;

fn main() {
    let samples = 400;
    // A deterministic scatter of points; the values do not matter for timing.
    let x: Vec<f32> = (0..samples * 2)
        .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
        .collect();
    let y: Vec<f32> = (0..samples).map(|i| (i % 2) as f32).collect();
    let mut model = Model::new(&[2]).expect("model");
    model
        .add_layer(&LayerConfig::dense(4, Activation::Tanh))
        .expect("layer");
    model
        .add_layer(&LayerConfig::dense(1, Activation::Sigmoid))
        .expect("layer");
    for (index, values) in [(0, vec![0.01; 8]), (2, vec![-0.01, 0.02, -0.03, 0.04])] {
        model.set_parameter(index, &values).expect("parameter");
    }
    model
        .configure_training(TrainingConfig::new(
            Loss::BinaryCrossEntropy,
            Optimizer::Sgd { learning_rate: 1.2 },
        ))
        .expect("training");
    let order: Vec<u32> = (0..samples as u32).collect();
    let batches = Batches {
        indices: &order,
        ends: &[samples as u32],
    };
    let (mut losses, mut correct) = ([0.0], [0]);
    let mut step = || {
        let records = BatchRecords {
            losses: &mut losses,
            correct: &mut correct,
        };
        model
            .train_batches(&x, &y, samples, batches, records)
            .expect("step");
    };
    let steps = 10_000;
    for _ in 0..200 {
        step();
    }
    let start = Instant::now();
    for _ in 0..steps {
        step();
    }
    let elapsed = start.elapsed();
    println!(
        "{steps} planar steps: {:.1} ms ({:.2} us per step)",
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e6 / steps as f64
    );
}
