//! Times training batches of issue 14's CNN (28x28x1 NHWC -> conv2d 32 3x3 same relu -> max
//! pool 2x2 -> conv2d 64 3x3 same relu -> max pool 2x2 -> flatten -> dense 128 relu -> dense
//! 10 softmax; categorical cross-entropy, SGD lr 0.01, batch 128) on random data through
//! `Model::train_batches`, the path the bindings take. A measurement, not a test:
//! `RAYON_NUM_THREADS=1 cargo run --release --features threads --example cnn_steps -p
//! ferronet-kernels [batches]`.

use ferronet_kernels::{
    Activation, BatchRecords, Batches, LayerConfig, Loss, Model, Optimizer, Padding, TrainingConfig,
    Xoshiro128,
};
use std::time::Instant;

const BATCH: usize = 128;

fn conv(filters: usize) -> LayerConfig {
    LayerConfig::Conv2d {
        filters,
        kernel_size: [3, 3],
        strides: [1, 1],
        padding: Padding::Same,
        activation: "relu".to_owned(),
        alpha: 0.0,
        use_bias: true,
    }
}

fn pool() -> LayerConfig {
    LayerConfig::MaxPool2d {
        pool_size: [2, 2],
        strides: [2, 2],
        padding: Padding::Valid,
    }
}

fn main() {
    let batches: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(40);
    let samples = BATCH * 8;
    let mut random = Xoshiro128::from_state([7, 11, 13, 17]);
    let x: Vec<f32> = (0..samples * 28 * 28).map(|_| random.uniform() as f32).collect();
    let y: Vec<f32> = (0..samples).map(|i| (i % 10) as f32).collect();
    let mut model = Model::new(&[28, 28, 1]).expect("model");
    for layer in [
        conv(32),
        pool(),
        conv(64),
        pool(),
        LayerConfig::Flatten {},
        LayerConfig::dense(128, Activation::Relu),
        LayerConfig::dense(10, Activation::Softmax),
    ] {
        model.add_layer(&layer).expect("layer");
    }
    // Small random weights (Model starts them at zero); the values do not matter for timing.
    for index in 0..model.parameter_count() {
        let len = model.parameter(index).expect("parameter").len();
        let values: Vec<f32> = (0..len).map(|_| (random.uniform() as f32 - 0.5) * 0.1).collect();
        model.set_parameter(index, &values).expect("parameter");
    }
    model
        .configure_training(TrainingConfig::new(
            Loss::CategoricalCrossEntropy,
            Optimizer::Sgd { learning_rate: 0.01 },
        ))
        .expect("training");
    let order: Vec<u32> = (0..samples as u32).collect();
    let ends: Vec<u32> = (1..=samples / BATCH).map(|b| (b * BATCH) as u32).collect();
    let mut run = |count: usize| {
        for _ in 0..count.div_ceil(ends.len()) {
            let (mut losses, mut correct) = (vec![0.0; ends.len()], vec![0; ends.len()]);
            let records = BatchRecords {
                losses: &mut losses,
                correct: &mut correct,
            };
            let batches = Batches {
                indices: &order,
                ends: &ends,
            };
            model
                .train_batches(&x, &y, samples, batches, records)
                .expect("batches");
        }
        count.div_ceil(ends.len()) * ends.len()
    };
    run(ends.len());
    let start = Instant::now();
    let done = run(batches);
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{done} CNN batches of {BATCH}: {:.1} ms per batch, {:.0} samples/s",
        seconds * 1e3 / done as f64,
        (done * BATCH) as f64 / seconds
    );
}
