//! The opcodes of the pickle reader that build containers and the few objects a state dict
//! consists of: globals, calls (REDUCE, NEWOBJ, BUILD) and persistent ids (storages).

use std::rc::Rc;

use super::{Dict, DictKey, Global, Machine, Obj, PickleError, Res, StorageRef, TensorRef, Value};
use crate::checkpoint::DType;

/// Maps `module.name` to the inert stand-in this reader uses for it. Everything a plain state
/// dict needs is here; anything else (`os.system`, `builtins.eval`, a model class) is refused.
fn resolve_global(module: &str, name: &str) -> Res<Global> {
    let storage = |d| Ok(Global::Storage(d));
    match (module, name) {
        ("collections", "OrderedDict") => Ok(Global::OrderedDict),
        ("torch._utils", "_rebuild_tensor_v2") => Ok(Global::RebuildTensorV2),
        // `_with_state` only adds Python attributes of the Parameter, which weights do not need.
        ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state") => {
            Ok(Global::RebuildParameter)
        }
        ("torch", "DoubleStorage") => storage(DType::F64),
        ("torch", "FloatStorage") => storage(DType::F32),
        ("torch", "HalfStorage") => storage(DType::F16),
        ("torch", "BFloat16Storage") => storage(DType::BF16),
        ("torch", "LongStorage") => storage(DType::I64),
        ("torch", "IntStorage") => storage(DType::I32),
        ("torch", "ShortStorage") => storage(DType::I16),
        ("torch", "CharStorage") => storage(DType::I8),
        ("torch", "ByteStorage") => storage(DType::U8),
        ("torch", "BoolStorage") => storage(DType::Bool),
        _ => {
            // Names come from the file: keep the message readable whatever they hold.
            let full: String = format!("{module}.{name}").chars().take(200).collect();
            Err(PickleError::Refused(full))
        }
    }
}

impl Machine<'_> {
    pub(super) fn global(&mut self) -> Res<()> {
        let module = self.line()?;
        let name = self.line()?;
        let g = resolve_global(module, name)?;
        self.push(Value::Global(g));
        Ok(())
    }

    pub(super) fn stack_global(&mut self) -> Res<()> {
        let name = self.pop()?;
        let module = self.pop()?;
        match (&module, &name) {
            (Value::Str(m), Value::Str(n)) => {
                let g = resolve_global(m, n)?;
                self.push(Value::Global(g));
                Ok(())
            }
            _ => Err(self.bad("STACK_GLOBAL needs two strings")),
        }
    }

    fn top_obj(&self) -> Res<usize> {
        match self.stack.last() {
            Some(Value::Obj(i)) if self.stack.len() > self.fence() => Ok(*i),
            _ => Err(self.bad("expected a container on the stack")),
        }
    }

    fn dict_key(&self, v: Value) -> Res<DictKey> {
        match v {
            Value::Str(s) => Ok(DictKey::Str(s)),
            Value::Int(i) => Ok(DictKey::Int(i)),
            Value::Bool(b) => Ok(DictKey::Bool(b)),
            Value::None => Ok(DictKey::None),
            _ => Err(self.bad("unsupported dict key type")),
        }
    }

    pub(super) fn fill_dict(&mut self, items: Vec<Value>) -> Res<()> {
        if !items.len().is_multiple_of(2) {
            return Err(self.bad("odd number of items for a dict"));
        }
        let target = self.top_obj()?;
        let mut pairs = Vec::with_capacity(items.len() / 2);
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            pairs.push((self.dict_key(k)?, v));
        }
        match &mut self.arena[target] {
            Obj::Dict(d) => pairs.into_iter().for_each(|(k, v)| d.insert(k, v)),
            _ => return Err(self.bad("SETITEM on something that is not a dict")),
        }
        Ok(())
    }

    pub(super) fn setitem(&mut self) -> Res<()> {
        let v = self.pop()?;
        let k = self.pop()?;
        self.fill_dict(vec![k, v])
    }

    pub(super) fn setitems(&mut self) -> Res<()> {
        let items = self.pop_mark()?;
        self.fill_dict(items)
    }

    fn extend_list(&mut self, items: Vec<Value>) -> Res<()> {
        let target = self.top_obj()?;
        match &mut self.arena[target] {
            Obj::List(l) => l.extend(items),
            _ => return Err(self.bad("APPEND on something that is not a list")),
        }
        Ok(())
    }

    pub(super) fn append(&mut self) -> Res<()> {
        let v = self.pop()?;
        self.extend_list(vec![v])
    }

    pub(super) fn appends(&mut self) -> Res<()> {
        let items = self.pop_mark()?;
        self.extend_list(items)
    }

    fn tuple_items(&self, v: &Value) -> Res<Vec<Value>> {
        match v {
            Value::Obj(i) => match &self.arena[*i] {
                Obj::Tuple(t) => Ok(t.clone()),
                _ => Err(self.bad("expected a tuple")),
            },
            _ => Err(self.bad("expected a tuple")),
        }
    }

    pub(super) fn reduce(&mut self) -> Res<()> {
        let args = self.pop()?;
        let func = self.pop()?;
        let args = self.tuple_items(&args)?;
        self.charge(args.len())?;
        let v = match func {
            Value::Global(g) => self.call(g, &args)?,
            _ => return Err(self.bad("REDUCE on something that is not callable")),
        };
        self.push(v);
        Ok(())
    }

    /// NEWOBJ(_EX) is `cls.__new__(cls, *args)`; only an empty OrderedDict is meaningful here.
    pub(super) fn newobj(&mut self, with_kwargs: bool) -> Res<()> {
        if with_kwargs {
            self.pop()?;
        }
        let args = self.pop()?;
        let cls = self.pop()?;
        let args = self.tuple_items(&args)?;
        match cls {
            Value::Global(Global::OrderedDict) if args.is_empty() => {
                self.push_obj(Obj::Dict(Dict::default()));
                Ok(())
            }
            _ => Err(self.bad("NEWOBJ of something other than an empty OrderedDict")),
        }
    }

    fn call(&mut self, g: Global, args: &[Value]) -> Res<Value> {
        match g {
            Global::OrderedDict if args.is_empty() => Ok(self.alloc(Obj::Dict(Dict::default()))),
            Global::OrderedDict => Err(self.bad("OrderedDict called with arguments")),
            Global::RebuildTensorV2 => self.rebuild_tensor(args),
            // A Parameter is its tensor as far as the weights go.
            Global::RebuildParameter => match args.first() {
                Some(v @ Value::Obj(i)) if matches!(self.arena[*i], Obj::Tensor(_)) => {
                    Ok(v.clone())
                }
                _ => Err(self.bad("_rebuild_parameter without a tensor")),
            },
            Global::Storage(_) => Err(self.bad("a storage class called like a function")),
        }
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`.
    fn rebuild_tensor(&mut self, args: &[Value]) -> Res<Value> {
        if !(6..=7).contains(&args.len()) {
            return Err(self.bad("_rebuild_tensor_v2 with the wrong number of arguments"));
        }
        let storage = match &args[0] {
            Value::Obj(i) => match &self.arena[*i] {
                Obj::Storage(s) => s.clone(),
                _ => return Err(self.bad("_rebuild_tensor_v2 without a storage")),
            },
            _ => return Err(self.bad("_rebuild_tensor_v2 without a storage")),
        };
        let offset = self.uint(&args[1])?;
        let shape = self.uint_tuple(&args[2])?;
        let stride = self.uint_tuple(&args[3])?;
        if shape.len() != stride.len() {
            return Err(self.bad("tensor size and stride differ in length"));
        }
        Ok(self.alloc(Obj::Tensor(TensorRef {
            storage,
            offset,
            shape,
            stride,
        })))
    }

    fn uint(&self, v: &Value) -> Res<u64> {
        match v {
            Value::Int(i) => u64::try_from(*i).map_err(|_| self.bad("negative or huge size")),
            _ => Err(self.bad("expected an integer")),
        }
    }

    fn uint_tuple(&self, v: &Value) -> Res<Vec<u64>> {
        self.tuple_items(v)?.iter().map(|x| self.uint(x)).collect()
    }

    /// BUILD sets an object's state; on an OrderedDict that is the `_metadata` attribute
    /// (module versions), which the weights do not need.
    pub(super) fn build(&mut self) -> Res<()> {
        self.pop()?;
        match &self.arena[self.top_obj()?] {
            Obj::Dict(_) => Ok(()),
            _ => Err(self.bad("BUILD on something other than a dict")),
        }
    }

    /// `('storage', storage_type, key, location, numel[, view_metadata])`: the zip format has 5
    /// fields, the legacy one 6, where view_metadata is None or `(view_key, offset, size)`.
    pub(super) fn persistent_load(&mut self) -> Res<()> {
        let pid = self.pop()?;
        let f = self.tuple_items(&pid)?;
        if !matches!(f.first(), Some(Value::Str(s)) if &**s == "storage") || f.len() < 5 {
            return Err(self.bad(
                "persistent id is not a storage; whole pickled modules are not supported, \
                 save `model.state_dict()` instead",
            ));
        }
        let (Value::Global(Global::Storage(dtype)), Value::Str(key)) = (&f[1], &f[2]) else {
            return Err(self.bad("storage id without a storage type and key"));
        };
        let numel = self.uint(&f[4])?;
        let (base, len) = match f.get(5) {
            None | Some(Value::None) => (0, numel),
            Some(view) => {
                let v = self.tuple_items(view)?;
                match v.as_slice() {
                    [_, off, size] => (self.uint(off)?, self.uint(size)?),
                    _ => return Err(self.bad("storage view metadata is not a 3-tuple")),
                }
            }
        };
        if base.checked_add(len).is_none_or(|end| end > numel) {
            return Err(self.bad("storage view lies outside its storage"));
        }
        let storage = StorageRef {
            key: Rc::clone(key),
            dtype: *dtype,
            numel,
            base,
            len,
        };
        self.push_obj(Obj::Storage(storage));
        Ok(())
    }
}
