//! The layer kinds a [`Model`](crate::Model) is a sequence of, behind one small interface:
//! forward (inference or training), backward (parameter gradients and the input gradient), and
//! the parameter buffers. One file per kind; docs/layers.md gives each one's maths, and the ts
//! backend (ts/backends/ts/layers/) has a file of the same name doing the same in plain loops.
//!
//! Activations are `[rows][features...]` row-major, images NHWC, except between two narrow
//! dense layers, which pass columns `[features][rows]` (see [`Layer::link_columns`]), and in
//! every trace, which goes by rows. A layer's shapes are per
//! sample and computed here from its configuration and its input shape, never taken from the
//! caller: they are what every buffer length is checked against.

mod activation;
mod batch_norm;
mod conv2d;
mod dense;
mod dropout;
mod flatten;
mod pool;
mod window;

use crate::buffer::zeroed;
use crate::error::{check_len, checked_area};
use crate::model::ModelError;
use crate::random::Xoshiro128;
use crate::Activation;
use serde::Deserialize;

pub use window::Padding;

/// One parameter buffer and what training keeps beside it.
pub(crate) struct Param {
    pub values: Vec<f32>,
    /// Whether the optimizer updates it (batch norm's moving statistics are not trained).
    pub trained: bool,
    /// Whether weight decay applies: dense and conv2d weights only.
    pub decays: bool,
    /// The loss gradient of the last batch; empty for buffers that are not trained.
    pub gradient: Vec<f32>,
    /// The optimizer's per-element state (velocity; Adam's m and v).
    pub state: Vec<Vec<f32>>,
}

impl Param {
    /// A kernel (dense or conv2d weights) of `len` zeros: trained, and decayed by weight
    /// decay; `argument` names the setting its size comes from.
    pub fn kernel(argument: &'static str, len: usize) -> Result<Param, ModelError> {
        Ok(Param {
            decays: true,
            ..Param::trained(argument, len)?
        })
    }

    /// A trained buffer of `len` zeros that weight decay leaves alone (biases, batch norm).
    pub fn trained(argument: &'static str, len: usize) -> Result<Param, ModelError> {
        Ok(Param {
            values: zeroed(argument, len)?,
            trained: true,
            decays: false,
            gradient: zeroed(argument, len)?,
            state: Vec::new(),
        })
    }

    /// A buffer that layers update themselves (moving statistics), of `len` zeros.
    pub fn untrained(argument: &'static str, len: usize) -> Result<Param, ModelError> {
        Ok(Param {
            values: zeroed(argument, len)?,
            trained: false,
            decays: false,
            gradient: Vec::new(),
            state: Vec::new(),
        })
    }
}

/// Whether a forward pass is for inference or for a training step, which draws dropout masks
/// from the model's generator and uses (and updates) batch statistics.
pub(crate) enum Mode<'a> {
    Inference,
    Training(&'a mut Xoshiro128),
}

/// What a layer's backward pass reads and writes for one batch of `rows` samples.
pub(crate) struct Backward<'a> {
    /// The layer's input in the forward pass.
    pub input: &'a [f32],
    /// The layer's output in the forward pass.
    pub output: &'a [f32],
    pub rows: usize,
    /// `dL/d output` on entry; the layer may overwrite it (activations go backward in place).
    pub output_gradient: &'a mut [f32],
    /// Where `dL/d input` goes, overwritten; `None` for the first layer, which skips it.
    pub input_gradient: Option<&'a mut [f32]>,
    /// `output_gradient` is already with respect to the layer's pre-activation (a loss fused
    /// with the output activation, or a next layer that absorbed it), so the activation's
    /// backward is skipped.
    pub output_is_pre_activation: bool,
    /// The previous layer's activation when this layer absorbs its backward (see
    /// [`Layer::absorbs_input_activation`]): `input_gradient` is then with respect to the
    /// previous layer's pre-activation.
    pub input_activation: Option<Activation>,
}

/// A side of a layer that passes columns `[features][rows]` (see [`Layer::link_columns`]).
pub(crate) enum ColumnLink {
    Input,
    Output,
}

/// One layer of a model.
pub(crate) trait Layer: Send {
    /// The shape of one output sample.
    fn output_shape(&self) -> &[usize];

    /// Floats per output sample.
    fn output_len(&self) -> usize {
        self.output_shape().iter().product()
    }

    /// Floats per sample of the layer's largest scratch buffer (im2col patches), which bounds
    /// how many rows an inference chunk may hold.
    fn scratch_per_sample(&self) -> usize {
        0
    }

    /// The activation the layer ends with: the output layer's decides which losses fit.
    fn activation(&self) -> Activation {
        Activation::Linear
    }

    /// Whether the layer computes with its samples along the SIMD lanes (a narrow dense layer,
    /// see columns.rs), and so can take columns `[features][rows]` for its input or output.
    fn computes_in_columns(&self) -> bool {
        false
    }

    /// From now on, the forward and backward passes take that side's activations and gradients
    /// as columns: [`Model::add_layer`](crate::Model::add_layer) links two neighbours that
    /// compute in columns, which then skip the transposes between them. Traces still go by rows.
    fn link_columns(&mut self, _side: ColumnLink) {}

    /// Whether this layer's backward can take in the backward of `activation`, the previous
    /// layer's, saving that layer a pass over its outputs: max pooling after relu, since the
    /// value a window takes has the sign of the input it took it from.
    fn absorbs_input_activation(&self, _activation: Activation) -> bool {
        false
    }

    /// The parameter buffers, in the order docs/layers.md gives.
    fn params(&self) -> &[Param] {
        &[]
    }

    fn params_mut(&mut self) -> &mut [Param] {
        &mut []
    }

    /// Writes the outputs of `rows` samples of `input` to `output` (both exactly sized).
    fn forward(
        &mut self,
        input: &[f32],
        rows: usize,
        output: &mut [f32],
        mode: &mut Mode<'_>,
    ) -> Result<(), ModelError>;

    /// Writes every trained parameter's gradient (summed over the batch) and, when asked, the
    /// input gradient. Follows a training-mode forward pass of the same batch.
    fn backward(&mut self, pass: Backward<'_>) -> Result<(), ModelError>;

    /// An inference-mode forward pass that also writes the layer's pre-activation (what
    /// `Model::trace` reports): dense and conv2d `x W^T + b`, an activation layer its input.
    /// Kinds without an activation of their own (pooling, batch norm, dropout, flatten) write
    /// their output to both.
    fn trace(
        &mut self,
        input: &[f32],
        rows: usize,
        pre_activation: &mut [f32],
        output: &mut [f32],
    ) -> Result<(), ModelError> {
        self.forward(input, rows, output, &mut Mode::Inference)?;
        check_len("preActivation", "rows*outputs", pre_activation, output.len())?;
        pre_activation.copy_from_slice(output);
        Ok(())
    }
}

/// The end of a dense or conv2d trace, once its product is in `pre_activation`: the bias (one
/// per channel, when the layer has one) added there, and `output` that through `activation`.
fn finish_trace(
    activation: Activation,
    channels: usize,
    bias: Option<&Param>,
    pre_activation: &mut [f32],
    output: &mut [f32],
) -> Result<(), ModelError> {
    if let Some(bias) = bias {
        Activation::Linear.forward_with_bias_in_place(channels, &bias.values, pre_activation);
    }
    check_len("output", "rows*outputs", output, pre_activation.len())?;
    output.copy_from_slice(pre_activation);
    activation.forward_in_place(channels, output);
    Ok(())
}

/// A layer's configuration as the TypeScript side resolves it (ts/layers/types.ts), every
/// default filled in. Fields the model does not need (the shapes) are ignored.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum LayerConfig {
    Dense {
        units: usize,
        activation: String,
        alpha: f32,
        use_bias: bool,
    },
    Conv2d {
        filters: usize,
        kernel_size: [usize; 2],
        strides: [usize; 2],
        padding: Padding,
        activation: String,
        alpha: f32,
        use_bias: bool,
    },
    MaxPool2d {
        pool_size: [usize; 2],
        strides: [usize; 2],
        padding: Padding,
    },
    AvgPool2d {
        pool_size: [usize; 2],
        strides: [usize; 2],
        padding: Padding,
    },
    BatchNorm {
        momentum: f32,
        epsilon: f32,
    },
    Dropout {
        rate: f64,
    },
    Flatten {},
    Activation {
        activation: String,
        alpha: f32,
    },
}

impl LayerConfig {
    /// A dense layer with a bias; `Activation::LeakyRelu`'s slope travels inside it.
    pub fn dense(units: usize, activation: Activation) -> LayerConfig {
        let (name, alpha) = activation.name_and_alpha();
        LayerConfig::Dense {
            units,
            activation: name.to_owned(),
            alpha,
            use_bias: true,
        }
    }

    /// Parses the JSON the bindings receive (`JSON.stringify` of a resolved layer).
    pub fn from_json(json: &str) -> Result<LayerConfig, ModelError> {
        serde_json::from_str(json)
            .map_err(|error| ModelError::new("layer", format!("not a layer configuration: {error}")))
    }
}

/// Builds a layer from its configuration for samples of `input_shape`: the registry of kinds.
pub(crate) fn build(config: &LayerConfig, input_shape: &[usize]) -> Result<Box<dyn Layer>, ModelError> {
    Ok(match config {
        LayerConfig::Dense {
            units,
            activation,
            alpha,
            use_bias,
        } => Box::new(dense::Dense::new(
            input_shape,
            *units,
            Activation::from_name(activation, *alpha)?,
            *use_bias,
        )?),
        LayerConfig::Conv2d {
            filters,
            kernel_size,
            strides,
            padding,
            activation,
            alpha,
            use_bias,
        } => Box::new(conv2d::Conv2d::new(
            input_shape,
            conv2d::Conv2dOptions {
                filters: *filters,
                kernel: *kernel_size,
                strides: *strides,
                padding: *padding,
                activation: Activation::from_name(activation, *alpha)?,
                use_bias: *use_bias,
            },
        )?),
        LayerConfig::MaxPool2d {
            pool_size,
            strides,
            padding,
        } => Box::new(pool::Pool2d::new(
            input_shape,
            pool::Reduction::Max,
            *pool_size,
            *strides,
            *padding,
        )?),
        LayerConfig::AvgPool2d {
            pool_size,
            strides,
            padding,
        } => Box::new(pool::Pool2d::new(
            input_shape,
            pool::Reduction::Average,
            *pool_size,
            *strides,
            *padding,
        )?),
        LayerConfig::BatchNorm { momentum, epsilon } => {
            Box::new(batch_norm::BatchNorm::new(input_shape, *momentum, *epsilon)?)
        }
        LayerConfig::Dropout { rate } => Box::new(dropout::Dropout::new(input_shape, *rate)?),
        LayerConfig::Flatten {} => Box::new(flatten::Flatten::new(input_shape)?),
        LayerConfig::Activation { activation, alpha } => Box::new(activation::ActivationLayer::new(
            input_shape,
            Activation::from_name(activation, *alpha)?,
        )?),
    })
}

/// `[h, w, c]` from an input shape, or an error naming the layer kind that needs one.
pub(crate) fn image_shape(kind: &str, input_shape: &[usize]) -> Result<[usize; 3], ModelError> {
    match *input_shape {
        [h, w, c] if h > 0 && w > 0 && c > 0 => Ok([h, w, c]),
        _ => Err(ModelError::new(
            "layer",
            format!("{kind} expected an input of shape [height, width, channels], got {input_shape:?}"),
        )),
    }
}

/// Checks that `images` holds exactly `rows` samples of `[h, w, c]`, naming `argument`.
pub(crate) fn check_images(
    argument: &'static str,
    images: &[f32],
    rows: usize,
    shape: &[usize; 3],
) -> Result<(), ModelError> {
    let rule = "rows*height*width*channels";
    check_len(
        argument,
        rule,
        images,
        checked_area("rows", rule, rows, shape.iter().product())?,
    )?;
    Ok(())
}

/// The number of channels (the last extent) of a non-empty shape.
pub(crate) fn channels(kind: &str, input_shape: &[usize]) -> Result<usize, ModelError> {
    match input_shape.last() {
        Some(&c) if c > 0 => Ok(c),
        _ => Err(ModelError::new(
            "layer",
            format!("{kind} expected a non-empty input shape, got {input_shape:?}"),
        )),
    }
}

#[cfg(test)]
mod tests;
