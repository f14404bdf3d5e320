//! TEMPORARY lane-by-lane libm fallback, replaced by the helper's vector math.
#![allow(dead_code)]
use super::{Float, Vector};
fn map<V: Vector>(x: V, f32f: fn(f32) -> f32, f64f: fn(f64) -> f64) -> V {
    let mut a = [<V::Elem as Float>::ZERO; 16];
    x.store(&mut a);
    for v in a.iter_mut() {
        let d = v.to_f64();
        *v = <V::Elem as Float>::from_f64(if <V::Elem as Float>::MANTISSA_DIGITS == 24 {
            f32f(d as f32) as f64
        } else {
            f64f(d)
        });
    }
    x.load(&a)
}
pub(crate) fn exp<V: Vector>(x: V) -> V {
    map(x, libm::expf, libm::exp)
}
pub(crate) fn expm1<V: Vector>(x: V) -> V {
    map(x, libm::expm1f, libm::expm1)
}
pub(crate) fn ln<V: Vector>(x: V) -> V {
    map(x, libm::logf, libm::log)
}
pub(crate) fn log1p<V: Vector>(x: V) -> V {
    map(x, libm::log1pf, libm::log1p)
}
