//! `Session` for Python: a prepared forward pass, safe to share across threads (a lock around
//! the library's session; the GIL is released while it runs).
//!
//! Every method takes any number of inputs: they run `batch` at a time, the last batch padded
//! with zeros (whose rows are dropped). For images, the next batch is decoded and transformed
//! on other threads while the GPU runs the current one, as the command line does.

use crate::inputs::{self, ImageInput};
use crate::model::preprocess_all;
use crate::to_py;
use effnet::{LoadedModel, OutputKind, SessionOptions};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::sync::{Mutex, MutexGuard, mpsc};

/// What a session returns per image.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Logits,
    Embeddings,
}

impl Output {
    pub fn parse(s: &str) -> PyResult<Self> {
        match s {
            "logits" => Ok(Output::Logits),
            "embeddings" => Ok(Output::Embeddings),
            _ => Err(PyValueError::new_err(format!(
                "output must be \"logits\" or \"embeddings\", not {s:?}"
            ))),
        }
    }
}

/// A forward pass prepared for one batch size, resolution and output.
#[pyclass(module = "effnet._effnet", frozen)]
pub struct Session {
    inner: Mutex<effnet::Session>,
    model: LoadedModel,
    output: Output,
    /// Values per image of the output (classes or features).
    width: usize,
}

impl Session {
    pub fn new(
        py: Python<'_>,
        model: &LoadedModel,
        batch: usize,
        (h, w): (usize, usize),
        output: Output,
    ) -> PyResult<Self> {
        let kind = match output {
            Output::Logits => OutputKind::Logits,
            Output::Embeddings => OutputKind::Embeddings,
        };
        if output == Output::Logits && model.arch().classifier.is_none() {
            return Err(to_py(effnet::Error::Input(
                "the model has no classifier (a headless backbone): make the session with \
                 output=\"embeddings\""
                    .into(),
            )));
        }
        let options = SessionOptions::new(batch, h, w).with_output(kind);
        let session = py.detach(|| model.session(options)).map_err(to_py)?;
        let width = match output {
            Output::Logits => model.arch().num_classes(),
            Output::Embeddings => model.arch().head.out_c,
        };
        Ok(Session {
            inner: Mutex::new(session),
            model: model.clone(),
            output,
            width,
        })
    }

    /// The session, even after a panic in another thread's run (its buffers are rewritten
    /// by every run, so nothing stale survives).
    fn lock(&self) -> MutexGuard<'_, effnet::Session> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn options(&self) -> SessionOptions {
        self.lock().options()
    }

    /// Runs `n` images' worth of preprocessed input, `batch` at a time; `n` rows of output.
    fn run_rows(&self, input: &[f32], n: usize) -> effnet::Result<Vec<f32>> {
        let o = self.options();
        let per_image = 3 * o.height * o.width;
        let mut rows = Vec::with_capacity(n * self.width);
        let mut session = self.lock();
        for chunk in input.chunks(o.batch * per_image) {
            rows.extend(self.run_chunk(&mut session, chunk)?);
        }
        Ok(rows)
    }

    /// One batch (padded when short); its images' rows.
    fn run_chunk(&self, session: &mut effnet::Session, chunk: &[f32]) -> effnet::Result<Vec<f32>> {
        let o = session.options();
        let per_image = 3 * o.height * o.width;
        let images = chunk.len() / per_image;
        let mut padded;
        let full = if images == o.batch {
            chunk
        } else {
            padded = chunk.to_vec();
            padded.resize(o.batch * per_image, 0.0);
            &padded
        };
        let mut logits = session.run(full)?.logits;
        logits.truncate(images * self.width);
        Ok(logits)
    }

    /// Images to output rows: batch i+1 is preprocessed while batch i runs.
    fn run_images(&self, images: &[ImageInput]) -> PyResult<Vec<f32>> {
        let o = self.options();
        let size = (o.height, o.width);
        let (tx, rx) = mpsc::sync_channel::<PyResult<Vec<f32>>>(1);
        std::thread::scope(|s| {
            s.spawn(move || {
                for chunk in images.chunks(o.batch) {
                    if tx.send(preprocess_all(&self.model, chunk, size)).is_err() {
                        break; // the consumer stopped on an error
                    }
                }
            });
            let mut rows = Vec::with_capacity(images.len() * self.width);
            let mut session = self.lock();
            for input in rx {
                rows.extend(self.run_chunk(&mut session, &input?).map_err(to_py)?);
            }
            Ok(rows)
        })
    }

    /// `rows` (n × width) as a float32 array.
    fn array<'py>(
        &self,
        py: Python<'py>,
        rows: Vec<f32>,
    ) -> PyResult<Bound<'py, numpy::PyArray2<f32>>> {
        let n = rows.len() / self.width.max(1);
        PyArray1::from_vec(py, rows).reshape([n, self.width])
    }

    fn need(&self, output: Output, method: &str) -> PyResult<()> {
        if self.output == output {
            return Ok(());
        }
        let (made, needs) = match output {
            Output::Logits => ("embeddings", "logits"),
            Output::Embeddings => ("logits", "embeddings"),
        };
        Err(to_py(effnet::Error::Input(format!(
            "this session outputs {made}; {method} needs a session made with \
             output=\"{needs}\""
        ))))
    }
}

#[pymethods]
impl Session {
    /// Images per GPU run.
    #[getter]
    fn batch(&self) -> usize {
        self.options().batch
    }

    /// (height, width) of the input.
    #[getter]
    fn resolution(&self) -> (usize, usize) {
        let o = self.options();
        (o.height, o.width)
    }

    /// "logits" or "embeddings".
    #[getter]
    fn output(&self) -> &'static str {
        match self.output {
            Output::Logits => "logits",
            Output::Embeddings => "embeddings",
        }
    }

    /// Runs a preprocessed float32 [N, 3, H, W] array (any N); float32 [N, width] out.
    fn run<'py>(
        &self,
        py: Python<'py>,
        input: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, numpy::PyArray2<f32>>> {
        let (data, [n, c, h, w]) = inputs::tensor(input)?;
        let o = self.options();
        if c != 3 || h != o.height || w != o.width {
            return Err(to_py(effnet::Error::Shape {
                what: "session.run's input (make a session at this resolution, or \
                       preprocess to the session's)"
                    .into(),
                expected: vec![n, 3, o.height, o.width],
                got: vec![n, c, h, w],
            }));
        }
        let rows = py.detach(|| self.run_rows(&data, n)).map_err(to_py)?;
        self.array(py, rows)
    }

    /// The top `k` classes of each image: per image a list of (index, label, prob, wnid).
    #[pyo3(signature = (images, k=5))]
    #[allow(clippy::type_complexity)]
    fn classify(
        &self,
        py: Python<'_>,
        images: &Bound<'_, PyAny>,
        k: usize,
    ) -> PyResult<Vec<Vec<(usize, String, f64, Option<String>)>>> {
        self.need(Output::Logits, "classify")?;
        let images = inputs::images(images)?;
        let rows = py.detach(|| self.run_images(&images))?;
        let mut out = Vec::with_capacity(images.len());
        for row in rows.chunks(self.width.max(1)) {
            let top = self.model.predictions(row, k).map_err(to_py)?;
            out.push(
                top.into_iter()
                    .map(|p| (p.index, p.label, p.prob, p.wnid))
                    .collect(),
            );
        }
        Ok(out)
    }

    /// The logits of images: float32 [N, classes].
    fn logits<'py>(
        &self,
        py: Python<'py>,
        images: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, numpy::PyArray2<f32>>> {
        self.need(Output::Logits, "logits")?;
        let images = inputs::images(images)?;
        let rows = py.detach(|| self.run_images(&images))?;
        self.array(py, rows)
    }

    /// The pooled embedding of each image: float32 [N, num_features].
    fn embed<'py>(
        &self,
        py: Python<'py>,
        images: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, numpy::PyArray2<f32>>> {
        self.need(Output::Embeddings, "embed")?;
        let images = inputs::images(images)?;
        let rows = py.detach(|| self.run_images(&images))?;
        self.array(py, rows)
    }

    fn __repr__(&self) -> String {
        let o = self.options();
        format!(
            "effnet.Session(batch={}, resolution=({}, {}), output={:?})",
            o.batch,
            o.height,
            o.width,
            self.output()
        )
    }
}
