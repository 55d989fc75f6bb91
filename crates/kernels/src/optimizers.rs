//! Optimizer updates, applied in place to one parameter buffer and its gradient.

use crate::error::{check_len, ShapeError};
use crate::isa::multiversion;
use serde::Deserialize;

fn check_state(name: &'static str, state: &[f32], params: &[f32]) -> Result<(), ShapeError> {
    check_len(name, "length of params", state, params.len())
}

/// Plain gradient descent: `params -= learning_rate * gradients`.
pub fn sgd_update(learning_rate: f32, params: &mut [f32], gradients: &[f32]) -> Result<(), ShapeError> {
    check_state("gradients", gradients, params)?;
    sgd_loop(learning_rate, params, gradients);
    Ok(())
}

multiversion! {
    fn sgd_loop(learning_rate: f32, params: &mut [f32], gradients: &[f32]) {
        for (p, &g) in params.iter_mut().zip(gradients) {
            *p -= learning_rate * g;
        }
    }
}

/// Momentum in PyTorch's form: `velocity = momentum * velocity + gradients`, then
/// `params -= learning_rate * velocity` (so a changed learning rate applies to the whole
/// velocity at once, as in `torch.optim.SGD`).
pub fn momentum_update(
    learning_rate: f32,
    momentum: f32,
    params: &mut [f32],
    gradients: &[f32],
    velocity: &mut [f32],
) -> Result<(), ShapeError> {
    check_state("gradients", gradients, params)?;
    check_state("velocity", velocity, params)?;
    momentum_loop(learning_rate, momentum, params, gradients, velocity);
    Ok(())
}

multiversion! {
    fn momentum_loop(learning_rate: f32, momentum: f32, params: &mut [f32], gradients: &[f32], velocity: &mut [f32]) {
        for ((p, &g), v) in params.iter_mut().zip(gradients).zip(velocity.iter_mut()) {
            *v = momentum * *v + g;
            *p -= learning_rate * *v;
        }
    }
}

/// Adam (Kingma & Ba) with bias correction. `step` counts updates from 1.
///
/// `m = beta1 m + (1 - beta1) g`, `v = beta2 v + (1 - beta2) g^2`, then
/// `params -= learning_rate * (m / (1 - beta1^step)) / (sqrt(v / (1 - beta2^step)) + epsilon)`.
#[allow(clippy::too_many_arguments)]
// Adam's hyperparameters plus its two moment buffers
// Not inlined: inlined into the training loop, LLVM hoists the two `powi` calls of the bias
// corrections above the choice of optimizer, and every SGD step paid for them (2% of a
// planar step).
#[inline(never)]
pub fn adam_update(
    learning_rate: f32,
    beta1: f32,
    beta2: f32,
    epsilon: f32,
    step: u32,
    params: &mut [f32],
    gradients: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) -> Result<(), ShapeError> {
    check_state("gradients", gradients, params)?;
    check_state("m", m, params)?;
    check_state("v", v, params)?;
    let step = i32::try_from(step.max(1)).unwrap_or(i32::MAX);
    let m_correction = (1.0 / (1.0 - f64::from(beta1).powi(step))) as f32;
    let v_correction = (1.0 / (1.0 - f64::from(beta2).powi(step))) as f32;
    let hyper = AdamStep {
        learning_rate,
        beta1,
        beta2,
        epsilon,
        m_correction,
        v_correction,
    };
    adam_loop(hyper, params, gradients, m, v);
    Ok(())
}

/// Adam's scalars for one step, bias corrections included.
#[derive(Clone, Copy)]
struct AdamStep {
    learning_rate: f32,
    beta1: f32,
    beta2: f32,
    epsilon: f32,
    m_correction: f32,
    v_correction: f32,
}

multiversion! {
    fn adam_loop(hyper: AdamStep, params: &mut [f32], gradients: &[f32], m: &mut [f32], v: &mut [f32]) {
        let AdamStep { learning_rate, beta1, beta2, epsilon, m_correction, v_correction } = hyper;
        for (((p, &g), mi), vi) in params.iter_mut().zip(gradients).zip(m.iter_mut()).zip(v.iter_mut()) {
            *mi = beta1 * *mi + (1.0 - beta1) * g;
            *vi = beta2 * *vi + (1.0 - beta2) * g * g;
            let m_hat = *mi * m_correction;
            let v_hat = *vi * v_correction;
            *p -= learning_rate * m_hat / (v_hat.sqrt() + epsilon);
        }
    }
}

/// RMSprop as PyTorch's (no centering, no momentum): `v = rho v + (1 - rho) g^2`, then
/// `params -= learning_rate * g / (sqrt(v) + epsilon)`.
pub fn rmsprop_update(
    learning_rate: f32,
    rho: f32,
    epsilon: f32,
    params: &mut [f32],
    gradients: &[f32],
    v: &mut [f32],
) -> Result<(), ShapeError> {
    check_state("gradients", gradients, params)?;
    check_state("v", v, params)?;
    rmsprop_loop(learning_rate, rho, epsilon, params, gradients, v);
    Ok(())
}

multiversion! {
    fn rmsprop_loop(learning_rate: f32, rho: f32, epsilon: f32, params: &mut [f32], gradients: &[f32], v: &mut [f32]) {
        for ((p, &g), vi) in params.iter_mut().zip(gradients).zip(v.iter_mut()) {
            *vi = rho * *vi + (1.0 - rho) * g * g;
            *p -= learning_rate * g / (vi.sqrt() + epsilon);
        }
    }
}

/// A model's optimizer, as a training model stores it and as the TypeScript side sends it
/// (`{ "name": "adam", "learningRate": ..., ... }`; fields other optimizers use are ignored).
/// Weight decay is the model's business (it knows which buffers decay), see
/// [`TrainingConfig`](crate::TrainingConfig).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(tag = "name", rename_all = "lowercase", rename_all_fields = "camelCase")]
pub enum Optimizer {
    Sgd {
        learning_rate: f32,
    },
    Momentum {
        learning_rate: f32,
        momentum: f32,
    },
    Adam {
        learning_rate: f32,
        beta1: f32,
        beta2: f32,
        epsilon: f32,
    },
    /// Adam with decoupled weight decay (Loshchilov & Hutter), as `torch.optim.AdamW`.
    AdamW {
        learning_rate: f32,
        beta1: f32,
        beta2: f32,
        epsilon: f32,
    },
    RmsProp {
        learning_rate: f32,
        rho: f32,
        epsilon: f32,
    },
}

impl Optimizer {
    /// The step size.
    pub fn learning_rate(self) -> f32 {
        match self {
            Optimizer::Sgd { learning_rate }
            | Optimizer::Momentum { learning_rate, .. }
            | Optimizer::Adam { learning_rate, .. }
            | Optimizer::AdamW { learning_rate, .. }
            | Optimizer::RmsProp { learning_rate, .. } => learning_rate,
        }
    }

    /// The same optimizer with another step size (a schedule's next epoch).
    pub fn with_learning_rate(mut self, rate: f32) -> Optimizer {
        match &mut self {
            Optimizer::Sgd { learning_rate }
            | Optimizer::Momentum { learning_rate, .. }
            | Optimizer::Adam { learning_rate, .. }
            | Optimizer::AdamW { learning_rate, .. }
            | Optimizer::RmsProp { learning_rate, .. } => *learning_rate = rate,
        }
        self
    }

    /// The most buffers of per-parameter state any optimizer keeps (Adam's m and v).
    pub const MAX_STATE_BUFFERS: usize = 2;

    /// How many buffers of per-parameter state this optimizer keeps (velocity; m and v), at
    /// most [`Optimizer::MAX_STATE_BUFFERS`].
    pub fn state_buffers(self) -> usize {
        match self {
            Optimizer::Sgd { .. } => 0,
            Optimizer::Momentum { .. } | Optimizer::RmsProp { .. } => 1,
            Optimizer::Adam { .. } | Optimizer::AdamW { .. } => 2,
        }
    }

    /// Applies one update to `params`; `state` holds [`Optimizer::state_buffers`] buffers of
    /// the same length, and `step` counts updates from 1.
    pub fn update(
        self,
        step: u32,
        params: &mut [f32],
        gradients: &[f32],
        state: &mut [&mut [f32]],
    ) -> Result<(), ShapeError> {
        match (self, state) {
            (Optimizer::Sgd { learning_rate }, []) => sgd_update(learning_rate, params, gradients),
            (
                Optimizer::Momentum {
                    learning_rate,
                    momentum,
                },
                [velocity],
            ) => momentum_update(learning_rate, momentum, params, gradients, velocity),
            (
                Optimizer::Adam {
                    learning_rate,
                    beta1,
                    beta2,
                    epsilon,
                }
                | Optimizer::AdamW {
                    learning_rate,
                    beta1,
                    beta2,
                    epsilon,
                },
                [m, v],
            ) => adam_update(
                learning_rate,
                beta1,
                beta2,
                epsilon,
                step,
                params,
                gradients,
                m,
                v,
            ),
            (
                Optimizer::RmsProp {
                    learning_rate,
                    rho,
                    epsilon,
                },
                [v],
            ) => rmsprop_update(learning_rate, rho, epsilon, params, gradients, v),
            (_, state) => Err(ShapeError {
                argument: "state",
                rule: "buffers for this optimizer",
                expected: self.state_buffers(),
                actual: state.len(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgd_steps_against_the_gradient() {
        let mut p = [1.0, 2.0];
        sgd_update(0.5, &mut p, &[2.0, -4.0]).unwrap();
        assert_eq!(p, [0.0, 4.0]);
    }

    #[test]
    fn momentum_accumulates_velocity() {
        let mut p = [0.0];
        let mut v = [0.0];
        momentum_update(0.1, 0.9, &mut p, &[1.0], &mut v).unwrap();
        momentum_update(0.1, 0.9, &mut p, &[1.0], &mut v).unwrap();
        // PyTorch's form: buf = 1, then 1.9; p = -0.1, then -0.1 - 0.19.
        assert!((v[0] - 1.9).abs() < 1e-7);
        assert!((p[0] - -0.29).abs() < 1e-7);
    }

    /// With bias correction, Adam's first step moves every parameter by about the learning
    /// rate, whatever the gradient's scale.
    #[test]
    fn adam_first_step_is_learning_rate_sized() {
        let mut p = [0.0, 0.0, 0.0];
        let (mut m, mut v) = ([0.0; 3], [0.0; 3]);
        adam_update(
            0.01,
            0.9,
            0.999,
            1e-8,
            1,
            &mut p,
            &[1e-3, -5.0, 200.0],
            &mut m,
            &mut v,
        )
        .unwrap();
        for (got, sign) in p.iter().zip([-1.0, 1.0, -1.0]) {
            assert!((got - sign * 0.01).abs() < 1e-6, "{got}");
        }
    }

    /// Two Adam steps against the same update written out in f64.
    #[test]
    fn adam_matches_the_formula_over_steps() {
        let (lr, b1, b2, eps) = (0.1f64, 0.8f64, 0.9f64, 1e-8f64);
        let grads = [[0.5f64], [-0.25]];
        let (mut p, mut m, mut v) = (1.0f64, 0.0f64, 0.0f64);
        let (mut p32, mut m32, mut v32) = ([1.0f32], [0.0f32], [0.0f32]);
        for (t, g) in grads.iter().enumerate() {
            let step = t as i32 + 1;
            m = b1 * m + (1.0 - b1) * g[0];
            v = b2 * v + (1.0 - b2) * g[0] * g[0];
            p -= lr * (m / (1.0 - b1.powi(step))) / ((v / (1.0 - b2.powi(step))).sqrt() + eps);
            let g32 = [g[0] as f32];
            adam_update(
                0.1,
                0.8,
                0.9,
                1e-8,
                step as u32,
                &mut p32,
                &g32,
                &mut m32,
                &mut v32,
            )
            .unwrap();
        }
        assert!((f64::from(p32[0]) - p).abs() < 1e-6, "{} vs {p}", p32[0]);
    }

    /// Two RMSprop steps against the formula written out in f64.
    #[test]
    fn rmsprop_matches_the_formula_over_steps() {
        let (lr, rho, eps) = (0.01f64, 0.9f64, 1e-7f64);
        let (mut p, mut v) = (1.0f64, 0.0f64);
        let (mut p32, mut v32) = ([1.0f32], [0.0f32]);
        for g in [0.5f64, -2.0] {
            v = rho * v + (1.0 - rho) * g * g;
            p -= lr * g / (v.sqrt() + eps);
            rmsprop_update(0.01, 0.9, 1e-7, &mut p32, &[g as f32], &mut v32).unwrap();
        }
        assert!((f64::from(p32[0]) - p).abs() < 1e-6, "{} vs {p}", p32[0]);
    }

    #[test]
    fn optimizers_parse_from_the_settings_the_typescript_side_sends() {
        let json = r#"{"name":"adamw","learningRate":0.5,"momentum":0,"beta1":0.9,"beta2":0.99,"epsilon":1e-8,"rho":0,"weightDecay":0.01}"#;
        let optimizer: Optimizer = serde_json::from_str(json).unwrap();
        assert_eq!(
            optimizer,
            Optimizer::AdamW {
                learning_rate: 0.5,
                beta1: 0.9,
                beta2: 0.99,
                epsilon: 1e-8
            }
        );
        assert_eq!(optimizer.with_learning_rate(0.25).learning_rate(), 0.25);
        assert!(serde_json::from_str::<Optimizer>(r#"{"name":"lion","learningRate":1}"#).is_err());
    }

    #[test]
    fn wrong_lengths_name_the_argument() {
        let mut p = [0.0; 2];
        assert_eq!(
            sgd_update(0.1, &mut p, &[0.0]).unwrap_err().to_string(),
            "gradients: expected length 2 (length of params), got 1"
        );
        assert_eq!(
            momentum_update(0.1, 0.9, &mut p, &[0.0; 2], &mut [0.0])
                .unwrap_err()
                .argument,
            "velocity"
        );
        assert_eq!(
            adam_update(
                0.1,
                0.9,
                0.99,
                1e-8,
                1,
                &mut p,
                &[0.0; 2],
                &mut [0.0; 2],
                &mut [0.0; 3]
            )
            .unwrap_err()
            .argument,
            "v"
        );
    }
}
