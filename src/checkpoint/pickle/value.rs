//! The values the pickle reader builds. Containers and torch objects live in an arena and
//! are referred to by index, so shared and cyclic references cost nothing and dropping a
//! result never recurses, however deeply a hostile pickle nests.

use std::collections::HashMap;
use std::rc::Rc;

use crate::checkpoint::DType;

#[derive(Clone, Debug)]
pub(crate) enum Value {
    None,
    Bool(bool),
    Int(i128),
    /// Floats and byte strings only appear beside the weights (e.g. a wrapper's `best_acc`);
    /// nothing reads them, so only their presence is kept.
    Float,
    Str(Rc<str>),
    Bytes,
    Global(Global),
    /// Index into `Unpickled::arena`.
    Obj(usize),
}

/// The only globals a state dict needs; see `resolve_global`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Global {
    OrderedDict,
    RebuildTensorV2,
    RebuildParameter,
    Storage(DType),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum DictKey {
    None,
    Bool(bool),
    Int(i128),
    Str(Rc<str>),
}

/// An insertion-ordered dict (Python dicts keep order, and state dicts rely on it).
#[derive(Debug, Default)]
pub(crate) struct Dict {
    pub entries: Vec<(DictKey, Value)>,
    index: HashMap<DictKey, usize>,
}

impl Dict {
    pub(super) fn insert(&mut self, key: DictKey, value: Value) {
        match self.index.get(&key) {
            Some(&i) => self.entries[i].1 = value,
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, value));
            }
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        let i = *self.index.get(&DictKey::Str(Rc::from(key)))?;
        Some(&self.entries[i].1)
    }
}

/// A storage named by a persistent id; `base..base + len` is the window (in elements) that
/// tensors built on it index into (legacy files may hold views into a larger storage).
#[derive(Clone, Debug)]
pub(crate) struct StorageRef {
    pub key: Rc<str>,
    pub dtype: DType,
    pub numel: u64,
    pub base: u64,
    pub len: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct TensorRef {
    pub storage: StorageRef,
    pub offset: u64,
    pub shape: Vec<u64>,
    pub stride: Vec<u64>,
}

#[derive(Debug)]
pub(crate) enum Obj {
    List(Vec<Value>),
    Tuple(Vec<Value>),
    Dict(Dict),
    Storage(StorageRef),
    Tensor(TensorRef),
}

pub(crate) struct Unpickled {
    pub root: Value,
    pub arena: Vec<Obj>,
    /// Bytes up to and including STOP; legacy files put several pickles back to back.
    pub consumed: usize,
}

impl Unpickled {
    pub(crate) fn obj(&self, v: &Value) -> Option<&Obj> {
        match v {
            Value::Obj(i) => self.arena.get(*i),
            _ => None,
        }
    }
    pub(crate) fn dict(&self, v: &Value) -> Option<&Dict> {
        match self.obj(v) {
            Some(Obj::Dict(d)) => Some(d),
            _ => None,
        }
    }
    pub(crate) fn items(&self, v: &Value) -> Option<&[Value]> {
        match self.obj(v) {
            Some(Obj::List(l) | Obj::Tuple(l)) => Some(l),
            _ => None,
        }
    }
    pub(crate) fn tensor(&self, v: &Value) -> Option<&TensorRef> {
        match self.obj(v) {
            Some(Obj::Tensor(t)) => Some(t),
            _ => None,
        }
    }
    pub(crate) fn storages(&self) -> impl Iterator<Item = &StorageRef> {
        self.arena.iter().filter_map(|o| match o {
            Obj::Storage(s) => Some(s),
            _ => None,
        })
    }
}
