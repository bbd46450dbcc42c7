//! The browser demo's Rust half (the page is `web/index.html`): the bundled Lite0, fetched
//! by the page, classifying photos on the GPU through WebGPU. `web/build.sh` builds it with
//! wasm-bindgen; natively this example only says how.

#[cfg(target_arch = "wasm32")]
mod page {
    use effnet::preprocess::{ImageLimits, decode_image};
    use effnet::{Engine, LoadedModel, Model, Session};
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::prelude::*;

    /// A session on the page's GPU for one image at the model's resolution.
    #[wasm_bindgen]
    pub struct Classifier {
        /// Lent to the future of the classification in flight (the page has one thread),
        /// so a second call while one runs is an error rather than a conflict.
        session: Rc<RefCell<Option<Session>>>,
        model: LoadedModel,
        adapter: String,
    }

    /// The adapter in words; browsers name few, but say when it is a software one.
    fn describe(info: &effnet::wgpu::AdapterInfo) -> String {
        let name = if info.name.is_empty() {
            "WebGPU"
        } else {
            &info.name
        };
        match info.device_type {
            effnet::wgpu::DeviceType::Cpu => format!("{name} (a software adapter, on the CPU)"),
            _ => name.to_string(),
        }
    }

    fn js_error(e: effnet::Error) -> JsError {
        JsError::new(&e.to_string())
    }

    #[wasm_bindgen]
    impl Classifier {
        /// Opens WebGPU, puts the checkpoint (`checkpoint`, the bytes of a model file named
        /// `name`) on the GPU and prepares a session. Rejects with a message that says what
        /// to do when the browser has no WebGPU.
        pub async fn create(name: String, checkpoint: Vec<u8>) -> Result<Classifier, JsError> {
            let engine = Engine::new_async().await.map_err(js_error)?;
            let model = Model::from_bytes(&name, &checkpoint, None).map_err(js_error)?;
            let model = engine.load_async(model).await.map_err(js_error)?;
            let session = model.session_async(model.default_options(1)).await;
            Ok(Classifier {
                session: Rc::new(RefCell::new(Some(session.map_err(js_error)?))),
                adapter: describe(engine.adapter_info()),
                model,
            })
        }

        /// The WebGPU adapter, in words.
        pub fn adapter(&self) -> String {
            self.adapter.clone()
        }

        /// The model's name.
        pub fn model(&self) -> String {
            self.model.arch().name.clone()
        }

        /// Decodes a JPEG or PNG, preprocesses it as the native build does and runs it:
        /// resolves to JSON `{"top": [{"label", "prob"}…5], "ms": time for this image}`.
        pub fn classify(&self, image: Vec<u8>) -> js_sys::Promise {
            let session = self.session.clone();
            wasm_bindgen_futures::future_to_promise(async move {
                let start = web_time::Instant::now();
                let photo = decode_image(&image, &ImageLimits::default());
                let photo = photo.map_err(|e| JsValue::from_str(&e.to_string()))?;
                let taken = session.borrow_mut().take();
                let mut lent = taken.ok_or("a classification is still running; await it first")?;
                let top = lent.classify_async(&[photo], 5).await;
                *session.borrow_mut() = Some(lent);
                let top = top.map_err(|e| JsValue::from_str(&e.to_string()))?;
                let ms = start.elapsed().as_secs_f64() * 1e3;
                let top: Vec<_> = (top[0].iter())
                    .map(|p| serde_json::json!({"label": p.label, "prob": p.prob}))
                    .collect();
                Ok(JsValue::from_str(
                    &serde_json::json!({"top": top, "ms": ms}).to_string(),
                ))
            })
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "web_demo runs in a browser: build it with `bash web/build.sh`, serve it with \
         `cargo run --release --example web_serve` and open the address that prints"
    );
}
