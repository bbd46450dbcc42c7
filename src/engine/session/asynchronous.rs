//! `Session`'s non-blocking runs: what a browser page calls, since nothing may
//! block there. The same preprocessing and results as the blocking methods.

use super::{Session, embedding_rows, images};
use crate::graph::Output;
use crate::runtime::Input;
use crate::{Prediction, Result};

impl Session {
    /// Like `run`, without blocking the async executor: the future completes when the GPU
    /// is done (natively a helper thread waits in `Device::poll`; in a browser the page's
    /// event loop completes it; nothing spins).
    ///
    /// ```
    /// # use effnet::{Engine, Model, SessionOptions};
    /// # fn main() -> effnet::Result<()> {
    /// # let Ok(engine) = Engine::new() else { return Ok(()) };
    /// # let model = engine.load(Model::bundled()?)?;
    /// let mut session = model.session(model.default_options(1).with_resolution(32, 32))?;
    /// let output = pollster::block_on(session.run_async(&vec![0.0; 3 * 32 * 32]))?;
    /// assert_eq!(output.logits.len(), 1000);
    /// # Ok(()) }
    /// ```
    pub async fn run_async(&mut self, input: &[f32]) -> Result<Output> {
        self.model.gpu.check()?;
        let result = self.inner.run_async(Input::Host(input)).await;
        self.model.gpu.check()?;
        result
    }

    /// Like [`Session::classify`], without blocking: the future completes when the GPU is
    /// done. The way to classify in a browser.
    pub async fn classify_async(
        &mut self,
        images: &[image::RgbImage],
        k: usize,
    ) -> Result<Vec<Vec<Prediction>>> {
        self.check_logits()?;
        let (rows, width) = self.run_padded_async(images).await?;
        Ok(self.predict_rows(&rows, width, images.len(), k))
    }

    /// Like [`Session::embed`], without blocking.
    pub async fn embed_async(&mut self, images: &[image::RgbImage]) -> Result<Vec<Vec<f32>>> {
        self.check_embeds()?;
        let (rows, width) = self.run_padded_async(images).await?;
        Ok(embedding_rows(&rows, width, images.len()))
    }

    /// Like [`Session::run_images`], without blocking.
    pub async fn run_images_async(&mut self, images: &[image::RgbImage]) -> Result<Output> {
        let o = self.options;
        let spec = &self.model.arch().preprocess;
        let input = images::to_tensor(images, spec, o.batch, o.height, o.width)?;
        self.run_async(&input).await
    }

    async fn run_padded_async(&mut self, images: &[image::RgbImage]) -> Result<(Vec<f32>, usize)> {
        let Some(input) = self.padded_input(images)? else {
            return Ok((Vec::new(), 1));
        };
        let rows = self.run_async(&input).await?.logits;
        let width = rows.len() / self.options.batch;
        Ok((rows, width))
    }
}
