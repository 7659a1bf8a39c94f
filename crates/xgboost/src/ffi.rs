//! The only module that talks to XGBoost's C API (`xgboost_lib_sys`), and so the only one with
//! `unsafe`. Everything it exports is safe: [`Matrix`] and [`Booster`] own their handles and free
//! them on drop, every call's return code goes through [`check`], and every buffer XGBoost hands
//! back is copied into Rust memory before the method returns.
//!
//! Ownership facts from XGBoost's sources (`src/c_api/c_api.cc`, `src/learner.cc`, 3.4) that the
//! safety arguments below rely on:
//! - A `DMatrixHandle` is a heap-allocated `std::shared_ptr<DMatrix>`. `XGBoosterCreate` and
//!   `XGBoosterUpdateOneIter` copy that shared pointer, and the booster's prediction cache holds
//!   weak pointers, so freeing a matrix handle while a booster still refers to it is sound.
//! - `XGDMatrixCreateFromMat` and `XGDMatrixSetFloatInfo` copy the input arrays.
//! - Output buffers (predictions, evaluation text, saved models) live in a per-booster,
//!   per-thread scratch entry and stay valid until the next call on that booster from the same
//!   thread. `XGBGetLastError` is thread-local too.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char, c_int};
use std::fmt;
use std::ptr;

use xgboost_lib_sys as sys;

use crate::XgbError;

/// The version of the linked XGBoost library, `(major, minor, patch)`.
pub fn version() -> (i32, i32, i32) {
    let (mut major, mut minor, mut patch): (c_int, c_int, c_int) = (0, 0, 0);
    // SAFETY: the three pointers are valid, distinct and writable for the whole call.
    unsafe { sys::XGBoostVersion(&mut major, &mut minor, &mut patch) };
    (major, minor, patch)
}

/// Turn an XGBoost return code into a `Result`, fetching the library's message on failure.
fn check(call: &'static str, rc: c_int) -> Result<(), XgbError> {
    if rc == 0 {
        return Ok(());
    }
    // SAFETY: `XGBGetLastError` takes no arguments and returns a pointer to a NUL-terminated,
    // thread-local string (or null), valid until the next failing call on this thread; it is
    // copied before anything else runs.
    let message = unsafe {
        let p = sys::XGBGetLastError();
        if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    };
    // dmlc appends a native backtrace of the library's frames; it is noise in an error value.
    let message = message
        .split("Stack trace:")
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    Err(XgbError::Library { call, message })
}

fn c_string(what: &str, s: &str) -> Result<CString, XgbError> {
    CString::new(s).map_err(|_| XgbError::InvalidInput(format!("{what} {s:?} contains a NUL byte")))
}

/// Copy `len` values from a buffer XGBoost returned. Null with a nonzero length is an error.
///
/// # Safety
/// If `ptr` is not null it must point to `len` initialised values that stay valid for the call.
unsafe fn copy_out<T: Copy>(
    call: &'static str,
    ptr: *const T,
    len: usize,
) -> Result<Vec<T>, XgbError> {
    if len == 0 {
        return Ok(Vec::new());
    }
    if ptr.is_null() {
        return Err(XgbError::Library {
            call,
            message: format!("returned a null buffer of length {len}"),
        });
    }
    // SAFETY: non-null and valid for `len` values, as the caller promises.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec())
}

fn to_usize(call: &'static str, n: sys::bst_ulong) -> Result<usize, XgbError> {
    usize::try_from(n).map_err(|_| XgbError::Library {
        call,
        message: format!("length {n} does not fit in usize"),
    })
}

fn to_bst(n: usize) -> sys::bst_ulong {
    // usize is at most 64 bits on every target Rust supports with this C library.
    n as sys::bst_ulong
}

/// A training or evaluation data set: XGBoost's `DMatrix`, built from a dense row-major array.
pub struct Matrix {
    handle: sys::DMatrixHandle,
    rows: usize,
    cols: usize,
}

// SAFETY: a DMatrix is plain heap data behind a shared pointer with no thread affinity; moving
// ownership of the handle to another thread is fine. `Matrix` is deliberately not `Sync`: XGBoost
// builds per-matrix caches lazily (e.g. quantile pages on first use), so two threads must not use
// one matrix at the same time.
unsafe impl Send for Matrix {}

impl Matrix {
    /// Row-major `f32` data with `width` columns; NaN marks a missing value. `labels`, if given,
    /// must have one value per row.
    pub fn new(data: &[f32], width: usize, labels: Option<&[f32]>) -> Result<Matrix, XgbError> {
        if width == 0 {
            return Err(XgbError::InvalidInput(
                "a matrix needs at least one column".into(),
            ));
        }
        if !data.len().is_multiple_of(width) {
            return Err(XgbError::InvalidInput(format!(
                "data length {} is not a multiple of the width {width}",
                data.len()
            )));
        }
        let rows = data.len() / width;
        if let Some(labels) = labels
            && labels.len() != rows
        {
            return Err(XgbError::InvalidInput(format!(
                "{} labels for {rows} rows",
                labels.len()
            )));
        }
        let mut handle: sys::DMatrixHandle = ptr::null_mut();
        // SAFETY: `data` holds exactly rows * width initialised f32s and outlives the call, which
        // copies them; `handle` is a valid out-pointer.
        let rc = unsafe {
            sys::XGDMatrixCreateFromMat(
                data.as_ptr(),
                to_bst(rows),
                to_bst(width),
                f32::NAN,
                &mut handle,
            )
        };
        check("XGDMatrixCreateFromMat", rc)?;
        let mut matrix = Matrix {
            handle,
            rows,
            cols: width,
        };
        if let Some(labels) = labels {
            matrix.set_float_info(c"label", labels)?;
        }
        Ok(matrix)
    }

    /// Per-row instance weights (one per row).
    pub fn set_weights(&mut self, weights: &[f32]) -> Result<(), XgbError> {
        if weights.len() != self.rows {
            return Err(XgbError::InvalidInput(format!(
                "{} weights for {} rows",
                weights.len(),
                self.rows
            )));
        }
        self.set_float_info(c"weight", weights)
    }

    fn set_float_info(&mut self, field: &CStr, values: &[f32]) -> Result<(), XgbError> {
        // SAFETY: `self.handle` is a live DMatrix we own exclusively (&mut self); `field` is
        // NUL-terminated; `values` holds `values.len()` f32s, which XGBoost copies.
        let rc = unsafe {
            sys::XGDMatrixSetFloatInfo(
                self.handle,
                field.as_ptr(),
                values.as_ptr(),
                to_bst(values.len()),
            )
        };
        check("XGDMatrixSetFloatInfo", rc)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (features).
    pub fn cols(&self) -> usize {
        self.cols
    }
}

impl Drop for Matrix {
    fn drop(&mut self) {
        // SAFETY: the handle came from a successful XGDMatrixCreateFromMat and is freed only here.
        // A nonzero return cannot be reported from `drop`; XGBoost only fails on a null handle.
        unsafe { sys::XGDMatrixFree(self.handle) };
    }
}

impl fmt::Debug for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matrix")
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .finish()
    }
}

/// A gradient-boosted model (XGBoost's `Booster`/`Learner`), trainable round by round.
///
/// `Booster` is `Send` but not `Sync`: it may be moved to another thread, never shared. Even
/// `&self` methods mutate XGBoost-internal state (prediction caches, output buffers).
///
/// ```compile_fail,E0277
/// fn shared<T: Sync>() {}
/// shared::<fraudwatch_xgboost::Booster>();
/// ```
pub struct Booster {
    handle: sys::BoosterHandle,
}

// SAFETY: XGBoost boosters have no thread affinity: all their state is heap data owned by the
// `Learner`. The only thread-bound pieces are the per-thread output scratch entries, which we copy
// out of before returning, and the thread-local error string, which `check` reads on the same
// thread straight after the failing call. A booster moved off a thread leaves at most an idle
// scratch entry in that thread's map (freed when the thread exits). `Booster` is not `Sync`, so
// no two threads ever call into the same booster concurrently.
unsafe impl Send for Booster {}

impl Booster {
    /// A new, untrained booster. `cache` lists the matrices it will train and evaluate on, so
    /// XGBoost can keep their predictions incrementally; it may be empty.
    pub fn new(cache: &[&Matrix]) -> Result<Booster, XgbError> {
        let handles: Vec<sys::DMatrixHandle> = cache.iter().map(|m| m.handle).collect();
        let mut handle: sys::BoosterHandle = ptr::null_mut();
        // SAFETY: `handles` holds `handles.len()` live DMatrix handles (borrowed for the call;
        // XGBoost copies the shared pointers); `handle` is a valid out-pointer.
        let rc =
            unsafe { sys::XGBoosterCreate(handles.as_ptr(), to_bst(handles.len()), &mut handle) };
        check("XGBoosterCreate", rc)?;
        Ok(Booster { handle })
    }

    /// Set one training parameter (`"eta"`, `"max_depth"`, …). XGBoost validates most values only
    /// at the first [`update`](Self::update). Setting `eval_metric` repeatedly adds metrics.
    pub fn set_param(&mut self, name: &str, value: &str) -> Result<(), XgbError> {
        let name = c_string("parameter name", name)?;
        let value = c_string("parameter value", value)?;
        // SAFETY: live booster owned exclusively (&mut self); both strings are NUL-terminated
        // and outlive the call.
        let rc = unsafe { sys::XGBoosterSetParam(self.handle, name.as_ptr(), value.as_ptr()) };
        check("XGBoosterSetParam", rc)
    }

    /// Run boosting round `iteration` on `train` (which must carry labels).
    pub fn update(&mut self, iteration: i32, train: &Matrix) -> Result<(), XgbError> {
        // SAFETY: live booster owned exclusively; `train.handle` is a live DMatrix.
        let rc = unsafe { sys::XGBoosterUpdateOneIter(self.handle, iteration, train.handle) };
        check("XGBoosterUpdateOneIter", rc)
    }

    /// Evaluate the configured metrics on named sets; returns XGBoost's raw evaluation line,
    /// e.g. `"[3]\ttrain-auc:0.91…\tvalid-auc:0.88…"`.
    pub fn eval(&self, iteration: i32, sets: &[(&str, &Matrix)]) -> Result<String, XgbError> {
        let names = sets
            .iter()
            .map(|(name, _)| c_string("evaluation set name", name))
            .collect::<Result<Vec<_>, _>>()?;
        let mut name_ptrs: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
        let mut handles: Vec<sys::DMatrixHandle> = sets.iter().map(|(_, m)| m.handle).collect();
        let mut out: *const c_char = ptr::null();
        // SAFETY: live booster, not shared across threads (!Sync); both arrays hold `sets.len()`
        // valid entries (live DMatrix handles, NUL-terminated names) and are only read.
        let rc = unsafe {
            sys::XGBoosterEvalOneIter(
                self.handle,
                iteration,
                handles.as_mut_ptr(),
                name_ptrs.as_mut_ptr(),
                to_bst(sets.len()),
                &mut out,
            )
        };
        check("XGBoosterEvalOneIter", rc)?;
        if out.is_null() {
            return Err(XgbError::Library {
                call: "XGBoosterEvalOneIter",
                message: "returned a null string".into(),
            });
        }
        // SAFETY: on success `out` is a NUL-terminated string in this booster's scratch entry for
        // this thread, valid until the next call on the booster; copied right away.
        Ok(unsafe { CStr::from_ptr(out) }
            .to_string_lossy()
            .into_owned())
    }

    /// Number of features the model was trained on (0 before the first round).
    pub fn num_features(&self) -> Result<usize, XgbError> {
        let mut out: sys::bst_ulong = 0;
        // SAFETY: live booster, not shared across threads; `out` is a valid out-pointer.
        let rc = unsafe { sys::XGBoosterGetNumFeature(self.handle, &mut out) };
        check("XGBoosterGetNumFeature", rc)?;
        to_usize("XGBoosterGetNumFeature", out)
    }

    /// Predictions for every row of `m` (probabilities for `binary:logistic`), using all trees.
    /// Multi-output models return the row-major flattened output.
    ///
    /// Stricter than XGBoost, which accepts a matrix with *fewer* columns than the model has
    /// features (treating the rest as missing): here `m` must have exactly as many columns as
    /// the model has features, so a shifted feature layout is an error rather than silent garbage.
    pub fn predict(&self, m: &Matrix) -> Result<Vec<f32>, XgbError> {
        self.predict_as(
            m,
            c"{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, \"strict_shape\": false}",
        )
    }

    /// The raw margins (log-odds for `binary:logistic`) of every row of `m`, using all trees:
    /// Python's `predict(..., output_margin=True)`. Same column check as [`predict`](Self::predict).
    pub fn predict_margin(&self, m: &Matrix) -> Result<Vec<f32>, XgbError> {
        self.predict_as(
            m,
            c"{\"type\": 1, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, \"strict_shape\": false}",
        )
    }

    /// Exact SHAP feature contributions to the margin, Python's `predict(...,
    /// pred_contribs=True)`: for a one-output model, `cols + 1` values per row, row after row,
    /// the last being the bias (base margin plus the trees' expected values); each row sums to
    /// its margin. Same column check as [`predict`](Self::predict).
    pub fn predict_contributions(&self, m: &Matrix) -> Result<Vec<f32>, XgbError> {
        self.predict_as(
            m,
            c"{\"type\": 2, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, \"strict_shape\": false}",
        )
    }

    /// `XGBoosterPredictFromDMatrix` with `config`, after checking that `m` has as many columns
    /// as the model has features; the output is copied out, flattened row-major.
    fn predict_as(&self, m: &Matrix, config: &CStr) -> Result<Vec<f32>, XgbError> {
        const CALL: &str = "XGBoosterPredictFromDMatrix";
        let features = self.num_features()?;
        if features != 0 && features != m.cols {
            return Err(XgbError::InvalidInput(format!(
                "the model has {features} features but the matrix has {} columns",
                m.cols
            )));
        }
        let mut shape: *const sys::bst_ulong = ptr::null();
        let mut dim: sys::bst_ulong = 0;
        let mut result: *const f32 = ptr::null();
        // SAFETY: live booster and DMatrix, not shared across threads; the config is
        // NUL-terminated; the three out-pointers are valid.
        let rc = unsafe {
            sys::XGBoosterPredictFromDMatrix(
                self.handle,
                m.handle,
                config.as_ptr(),
                &mut shape,
                &mut dim,
                &mut result,
            )
        };
        check(CALL, rc)?;
        // SAFETY: on success `shape` points to `dim` sizes and `result` to their product of
        // floats, in this booster's per-thread scratch entry, untouched until our next call.
        let shape = unsafe { copy_out(CALL, shape, to_usize(CALL, dim)?) }?;
        let len = shape
            .iter()
            .try_fold(1usize, |acc, &n| acc.checked_mul(to_usize(CALL, n).ok()?));
        let len = len.ok_or_else(|| XgbError::Library {
            call: CALL,
            message: format!("output shape {shape:?} overflows"),
        })?;
        // SAFETY: see above.
        unsafe { copy_out(CALL, result, len) }
    }

    /// The model as XGBoost's JSON document (`XGBoosterSaveModelToBuffer`, format `json`).
    pub fn save_json(&self) -> Result<Vec<u8>, XgbError> {
        const CALL: &str = "XGBoosterSaveModelToBuffer";
        let mut len: sys::bst_ulong = 0;
        let mut data: *const c_char = ptr::null();
        // SAFETY: live booster, not shared across threads; config NUL-terminated; out-pointers valid.
        let rc = unsafe {
            sys::XGBoosterSaveModelToBuffer(
                self.handle,
                c"{\"format\": \"json\"}".as_ptr(),
                &mut len,
                &mut data,
            )
        };
        check(CALL, rc)?;
        // SAFETY: on success `data` points to `len` bytes in the booster's per-thread scratch
        // entry, untouched until our next call.
        unsafe { copy_out(CALL, data.cast::<u8>(), to_usize(CALL, len)?) }
    }

    /// A booster from a JSON document written by [`save_json`](Self::save_json).
    pub fn load_json(bytes: &[u8]) -> Result<Booster, XgbError> {
        // Refuse anything that is not a JSON object up front: XGBoost picks its parser from the
        // first byte, and only the JSON one is in scope here.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(XgbError::InvalidInput(
                "a JSON model must start with '{'".into(),
            ));
        }
        let booster = Booster::new(&[])?;
        // SAFETY: live booster owned exclusively; `bytes` is valid for `bytes.len()` bytes and
        // is only read (parsed into the booster's own storage).
        let rc = unsafe {
            sys::XGBoosterLoadModelFromBuffer(
                booster.handle,
                bytes.as_ptr().cast(),
                to_bst(bytes.len()),
            )
        };
        check("XGBoosterLoadModelFromBuffer", rc)?;
        Ok(booster)
    }

    /// A new booster holding the trees of boosting rounds `begin..end` (`end == 0` means all).
    pub fn slice(&self, begin: i32, end: i32) -> Result<Booster, XgbError> {
        // Check the bounds here: XGBoost allocates the output booster before its own checks and
        // leaks it when they fail (out of bounds returns -2 without setting an error message).
        let rounds = self.rounds()?;
        let last = if end == 0 { rounds } else { end };
        if begin < 0 || begin >= last || last > rounds {
            return Err(XgbError::InvalidInput(format!(
                "slice {begin}..{end} is empty or out of bounds for a model of {rounds} rounds"
            )));
        }
        let mut out: sys::BoosterHandle = ptr::null_mut();
        // SAFETY: live booster, not shared across threads; `out` is a valid out-pointer.
        let rc = unsafe { sys::XGBoosterSlice(self.handle, begin, end, 1, &mut out) };
        if rc == -2 {
            return Err(XgbError::InvalidInput(format!(
                "slice {begin}..{end} is out of bounds"
            )));
        }
        check("XGBoosterSlice", rc)?;
        Ok(Booster { handle: out })
    }

    /// Number of boosting rounds in the model.
    pub fn rounds(&self) -> Result<i32, XgbError> {
        let mut out: c_int = 0;
        // SAFETY: live booster, not shared across threads; `out` is a valid out-pointer.
        let rc = unsafe { sys::XGBoosterBoostedRounds(self.handle, &mut out) };
        check("XGBoosterBoostedRounds", rc)?;
        Ok(out)
    }
}

impl Drop for Booster {
    fn drop(&mut self) {
        // SAFETY: the handle came from a successful XGBoosterCreate/XGBoosterSlice and is freed
        // only here. A nonzero return cannot be reported from `drop`.
        unsafe { sys::XGBoosterFree(self.handle) };
    }
}

impl fmt::Debug for Booster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Booster").finish_non_exhaustive()
    }
}
