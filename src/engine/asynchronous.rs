//! The non-blocking way in: opening the device, uploading a model and making sessions with
//! futures instead of blocking calls. A browser needs it (its page has one thread, which must
//! not wait for its own event loop); natively any executor can drive these futures.
//!
//! ```
//! use effnet::{Engine, Model};
//! # fn main() -> effnet::Result<()> {
//! pollster::block_on(async {
//!     let Ok(engine) = Engine::new_async().await else { return Ok(()) };
//!     let model = engine.load_async(Model::bundled()?).await?;
//!     let options = model.default_options(1).with_resolution(32, 32);
//!     let mut session = model.session_async(options).await?;
//!     let grey = effnet::image::RgbImage::from_pixel(40, 30, effnet::image::Rgb([128; 3]));
//!     let top = session.classify_async(&[grey], 5).await?;
//!     assert_eq!(top[0].len(), 5);
//!     Ok(())
//! })
//! # }
//! ```

use super::{Engine, LoadOptions, LoadedModel, Model, Session, SessionOptions};
use crate::Result;
use crate::gpu::{Gpu, GpuWeights};

impl Engine {
    /// Like [`Engine::new`], without blocking: the way to open the GPU in a browser, where a
    /// browser without WebGPU gives `Error::NoWebGpu`.
    pub async fn new_async() -> Result<Self> {
        crate::kernels::Family::from_env()?;
        Ok(Engine::from_gpu(Gpu::new_async().await?))
    }

    /// Like [`Engine::load`], without blocking.
    pub async fn load_async(&self, model: Model) -> Result<LoadedModel> {
        self.load_with_async(model, LoadOptions::default()).await
    }

    /// Like [`Engine::load_with`], without blocking.
    pub async fn load_with_async(&self, model: Model, options: LoadOptions) -> Result<LoadedModel> {
        let weights = self
            .gpu
            .scoped_async("the model's weights", || {
                Ok(GpuWeights::new(
                    &self.gpu,
                    &model.weights,
                    options.precision,
                ))
            })
            .await?;
        Ok(self.loaded(model, weights))
    }
}

impl LoadedModel {
    /// Like [`LoadedModel::session`], without blocking.
    pub async fn session_async(&self, options: SessionOptions) -> Result<Session> {
        Session::new_async(self, options).await
    }
}
