//! `Engine` (one GPU device) and `Model` (a model on it) for Python.

use crate::inputs::{self, ImageInput};
use crate::session::{Output, Session};
use crate::{adapter_dict, to_py};
use effnet::preprocess::{Exif, Transform};
use effnet::{LoadOptions, LoadedModel, Precision};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::path::{Path, PathBuf};

/// A GPU device effnet runs on.
#[pyclass(module = "effnet._effnet", frozen)]
pub struct Engine {
    inner: effnet::Engine,
    index: Option<usize>,
}

#[pymethods]
impl Engine {
    #[new]
    #[pyo3(signature = (device=None))]
    fn new(py: Python<'_>, device: Option<usize>) -> PyResult<Self> {
        let inner = py
            .detach(|| effnet::Engine::on_adapter(device))
            .map_err(to_py)?;
        Ok(Engine {
            inner,
            index: device,
        })
    }

    /// The adapter in words: name, backend, driver.
    #[getter]
    fn description(&self) -> String {
        self.inner.describe()
    }

    /// The adapter as a dict (the keys of `effnet.devices()`).
    #[getter]
    fn adapter<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        adapter_dict(py, self.index, self.inner.adapter_info())
    }

    /// Loads a model and puts its weights on this device.
    #[pyo3(signature = (name_or_path=None, arch=None, precision="f32", labels=None))]
    fn load(
        &self,
        py: Python<'_>,
        name_or_path: Option<&Bound<'_, PyAny>>,
        arch: Option<String>,
        precision: &str,
        labels: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Model> {
        let spec = name_or_path.map(spec_string).transpose()?;
        let labels = labels.map(labels_arg).transpose()?;
        let precision = Precision::parse(precision).map_err(to_py)?;
        let engine = self.inner.clone();
        let loaded = py.detach(move || {
            let mut model = read_model(spec.as_deref(), arch.as_deref())?;
            model = match labels {
                Some(Labels::File(path)) => model.with_labels(read_labels(&path)?)?,
                Some(Labels::Names(names)) => model.with_labels(names)?,
                None => model,
            };
            engine.load_with(model, LoadOptions::default().with_precision(precision))
        });
        Ok(Model {
            inner: loaded.map_err(to_py)?,
        })
    }

    fn __repr__(&self) -> String {
        format!("effnet.Engine({})", self.inner.describe())
    }
}

/// `name_or_path` as text: a str or an os.PathLike.
fn spec_string(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return s.extract::<String>();
    }
    let path: PathBuf = obj.extract().map_err(|_| {
        PyTypeError::new_err("name_or_path must be a model name, a file path or None")
    })?;
    Ok(path.to_string_lossy().into_owned())
}

/// Class names given as a file or as a list.
enum Labels {
    File(PathBuf),
    Names(Vec<String>),
}

fn labels_arg(obj: &Bound<'_, PyAny>) -> PyResult<Labels> {
    if obj.is_instance_of::<PyString>() {
        return Ok(Labels::File(obj.extract()?));
    }
    if let Ok(names) = obj.extract::<Vec<String>>() {
        return Ok(Labels::Names(names));
    }
    obj.extract::<PathBuf>().map(Labels::File).map_err(|_| {
        PyTypeError::new_err("labels must be a file (one name per line) or a list of str")
    })
}

fn read_labels(path: &Path) -> effnet::Result<Vec<String>> {
    effnet::model::hub::read_labels(path)
}

/// The bundled Lite0 (`None`), a checkpoint file, or synthetic weights for a model name, as
/// the command line's `--model` and `--arch` resolve them (`effnet::model::checkpoint_file`
/// tells a file from a name, with the command line's messages for folders, devices and
/// broken links).
fn read_model(spec: Option<&str>, arch: Option<&str>) -> effnet::Result<effnet::Model> {
    let input = |m: String| Err(effnet::Error::Input(m));
    let Some(spec) = spec else {
        if arch.is_some() {
            return input(
                "arch says which model a checkpoint file is; give the file as \
                          name_or_path (the bundled model needs no arch)"
                    .into(),
            );
        }
        return effnet::Model::bundled();
    };
    if let Some(path) = effnet::model::checkpoint_file(spec)? {
        return effnet::Model::from_file(path, arch);
    }
    let path = Path::new(spec);
    if arch.is_some() || path.components().count() > 1 || path.extension().is_some() {
        return input(format!(
            "{spec}: no such file; name_or_path takes a checkpoint file (.safetensors, .pth, \
             .pt, .bin) or a model name (effnet.known_models(): synthetic weights)"
        ));
    }
    effnet::Model::synthetic(spec)
}

/// A model on a GPU: immutable, shared by every session made from it.
#[pyclass(module = "effnet._effnet", frozen)]
pub struct Model {
    inner: LoadedModel,
}

#[pymethods]
impl Model {
    /// The architecture's name (e.g. `tf_efficientnet_lite0`).
    #[getter]
    fn name(&self) -> String {
        effnet::model::qualified_name(self.inner.arch())
    }

    /// One name per class, in class index order (empty for a headless backbone).
    #[getter]
    fn class_names(&self) -> Vec<String> {
        self.inner.class_names().to_vec()
    }

    /// The default input resolution (square): the one the weights were evaluated at.
    #[getter]
    fn resolution(&self) -> usize {
        self.inner.arch().resolution
    }

    /// Length of one embedding: the head's channels.
    #[getter]
    fn num_features(&self) -> usize {
        self.inner.arch().head.out_c
    }

    /// "f32" or "f16".
    #[getter]
    fn precision(&self) -> &'static str {
        match self.inner.precision() {
            Precision::F16 => "f16",
            _ => "f32",
        }
    }

    /// The adapter the model lives on, in words.
    #[getter]
    fn device(&self) -> String {
        self.inner.gpu_description()
    }

    /// A session for `batch` images at `resolution` (int or (height, width); default the
    /// model's), giving "logits" or "embeddings".
    #[pyo3(signature = (batch=1, resolution=None, output="logits"))]
    fn session(
        &self,
        py: Python<'_>,
        batch: usize,
        resolution: Option<&Bound<'_, PyAny>>,
        output: &str,
    ) -> PyResult<Session> {
        let (h, w) = self.resolution_arg(resolution)?;
        let output = Output::parse(output)?;
        Session::new(py, &self.inner, batch, (h, w), output)
    }

    /// The model's exact evaluation transform on `images`: float32 [N, 3, H, W].
    #[pyo3(signature = (images, resolution=None))]
    fn preprocess<'py>(
        &self,
        py: Python<'py>,
        images: &Bound<'py, PyAny>,
        resolution: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, numpy::PyArray4<f32>>> {
        let (h, w) = self.resolution_arg(resolution)?;
        let images = inputs::images(images)?;
        let n = images.len();
        let data = py.detach(|| preprocess_all(&self.inner, &images, (h, w)))?;
        PyArray1::from_vec(py, data).reshape([n, 3, h, w])
    }

    fn __repr__(&self) -> String {
        format!(
            "effnet.Model({}, {}, {} classes, on {})",
            self.name(),
            self.precision(),
            self.inner.class_names().len(),
            self.inner.gpu_description()
        )
    }
}

impl Model {
    /// `None` (the model's), an int (square) or (height, width).
    fn resolution_arg(&self, r: Option<&Bound<'_, PyAny>>) -> PyResult<(usize, usize)> {
        let Some(r) = r else {
            let r = self.inner.arch().resolution;
            return Ok((r, r));
        };
        let (h, w) = match r.extract::<usize>() {
            Ok(s) => (s, s),
            Err(_) => r.extract::<(usize, usize)>().map_err(|_| {
                PyTypeError::new_err("resolution must be an int or a (height, width) pair")
            })?,
        };
        if h == 0 || w == 0 {
            return Err(PyValueError::new_err("resolution must be at least 1"));
        }
        Ok((h, w))
    }
}

/// Every image decoded and transformed at `size`, or the first failure.
pub fn preprocess_all(
    model: &LoadedModel,
    images: &[ImageInput],
    (h, w): (usize, usize),
) -> PyResult<Vec<f32>> {
    let arch = model.arch();
    if h != w && arch.preprocess.pipeline != effnet::model::Pipeline::Pil {
        return Err(PyValueError::new_err(
            "mmpretrain's and MindSpore's preprocessing make square inputs; use a square \
             resolution with this model",
        ));
    }
    let t = Transform::from_spec(&arch.preprocess, h, w);
    let exif = Exif::of_source(arch.source);
    let mut out = Vec::with_capacity(images.len() * 3 * h * w);
    for r in inputs::preprocess(images, &t, exif) {
        out.extend(r.map_err(to_py)?);
    }
    Ok(out)
}
