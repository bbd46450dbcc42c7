//! `effnet._effnet`: the Rust half of the `effnet` Python package. The classes here hold the
//! library's `Engine`, `LoadedModel` and `Session`; `python/effnet/__init__.py` wraps them
//! (PIL images and torch tensors to numpy, named predictions) and documents the API, with the
//! type stubs in `python/effnet/_effnet.pyi`.
//!
//! Every call that waits on the GPU, reads files or decodes images releases the GIL
//! (`Python::detach`), so Python threads can feed several sessions or devices at once.

mod inputs;
mod model;
mod session;

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;

create_exception!(
    _effnet,
    EffnetError,
    PyException,
    "An error from effnet; the message says what went wrong and what to do."
);
create_exception!(
    _effnet,
    NoAdapterError,
    EffnetError,
    "No GPU adapter (not even a software one such as lavapipe) was found."
);

/// The Python exception for a library error, with the library's message unchanged.
pub(crate) fn to_py(e: effnet::Error) -> PyErr {
    match e {
        effnet::Error::NoAdapter { .. } => NoAdapterError::new_err(e.to_string()),
        _ => EffnetError::new_err(e.to_string()),
    }
}

/// One adapter as a dict: index (what `Engine(device=...)` takes), name, vendor and device
/// ids, device type, driver, backend and PCI bus id (empty where the driver gives none).
pub(crate) fn adapter_dict<'py>(
    py: Python<'py>,
    index: Option<usize>,
    info: &effnet::wgpu::AdapterInfo,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("index", index)?;
    d.set_item("name", &info.name)?;
    d.set_item("vendor", info.vendor)?;
    d.set_item("device", info.device)?;
    d.set_item("device_type", format!("{:?}", info.device_type))?;
    d.set_item("driver", &info.driver)?;
    d.set_item("driver_info", &info.driver_info)?;
    d.set_item("backend", format!("{:?}", info.backend))?;
    d.set_item("pci_bus_id", &info.device_pci_bus_id)?;
    Ok(d)
}

/// Every adapter wgpu finds, in the order `Engine(device=N)` counts them.
#[pyfunction]
fn devices(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyDict>>> {
    let infos = py.detach(effnet::Engine::adapters);
    (infos.iter().enumerate())
        .map(|(i, info)| adapter_dict(py, Some(i), info))
        .collect()
}

/// Every model name effnet knows (`effnet models`).
#[pyfunction]
fn known_models() -> Vec<String> {
    effnet::model::known_names()
}

#[pymodule]
fn _effnet(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("EffnetError", py.get_type::<EffnetError>())?;
    m.add("NoAdapterError", py.get_type::<NoAdapterError>())?;
    m.add_function(wrap_pyfunction!(devices, m)?)?;
    m.add_function(wrap_pyfunction!(known_models, m)?)?;
    m.add_class::<model::Engine>()?;
    m.add_class::<model::Model>()?;
    m.add_class::<session::Session>()?;
    Ok(())
}
