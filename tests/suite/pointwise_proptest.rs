//! Randomised checks (proptest) of every pointwise loss on every backend, f32: arbitrary
//! lengths, magnitudes from subnormal to `f32::MAX`, and NaN/±∞ placed in any lane.
//! A call either reports the first non-finite input exactly, or returns a non-NaN value
//! and gradient (finite inputs never give NaN), agreeing with the f64 oracle where the
//! terms are moderate. Inputs are first moved onto each loss's domain (`Domain::place`:
//! counts, probabilities, `[0, 1]` targets, `±1` labels); a call on valid
//! inputs that returns an error fails the test.

use losskit::prelude::*;
use losskit::reference::Domain;
use proptest::prelude::*;

/// One element: mostly ordinary values, some extreme magnitudes and subnormals.
fn element() -> impl Strategy<Value = f32> {
    prop_oneof![
        6 => -10.0f32..10.0,
        1 => (-38i32..38).prop_map(|e| 10f32.powi(e)),
        1 => (-38i32..38).prop_map(|e| -(10f32.powi(e))),
        1 => (1u32..0x0080_0000).prop_map(f32::from_bits), // subnormals
        1 => Just(f32::MAX),
        1 => Just(-f32::MAX),
        1 => Just(0.0f32),
    ]
}

/// A non-finite value to plant: (input 0 = pred / 1 = target, position, value).
type Planted = Option<(usize, usize, f32)>;

/// Inputs with an optional non-finite value at a chosen position of a chosen input.
fn case() -> impl Strategy<Value = (Vec<f32>, Vec<f32>, Planted)> {
    (1usize..130).prop_flat_map(|n| {
        (
            proptest::collection::vec(element(), n),
            proptest::collection::vec(element(), n),
            proptest::option::of((
                0usize..2,
                0..n,
                prop_oneof![Just(f32::NAN), Just(f32::INFINITY), Just(f32::NEG_INFINITY)],
            )),
        )
    })
}

fn check<L: PointwiseLoss>(
    name: &str,
    loss: L,
    oracle: fn(f64, f64) -> f64,
    domain: Domain,
    p: &[f32],
    t: &[f32],
    bad: Option<(usize, usize, f32)>,
) -> Result<(), TestCaseError> {
    let (mut p, mut t) = (p.to_vec(), t.to_vec());
    for (p, t) in p.iter_mut().zip(t.iter_mut()) {
        let (a, b) = domain.place(*p as f64, *t as f64);
        (*p, *t) = (a as f32, b as f32);
    }
    if let Some((which, at, v)) = bad {
        [&mut p, &mut t][which][at] = v;
    }
    for backend in Backend::available() {
        let l = loss.on(backend).unwrap();
        let mut g = vec![0.0f32; p.len()];
        let r = l.value_and_grad(&p, &t, None, Reduction::Mean, &mut g[..]);
        if let Some((which, _, _)) = bad {
            let first = [&p, &t][which].iter().position(|x| !x.is_finite()).unwrap();
            let other = [&p, &t][1 - which].iter().position(|x| !x.is_finite());
            prop_assert!(other.is_none());
            prop_assert_eq!(
                r,
                Err(Error::NonFinite {
                    name: ["pred", "target"][which],
                    index: first
                })
            );
            prop_assert!(g.iter().all(|&x| x == 0.0));
            continue;
        }
        // Every input is on the loss's domain: any error is a failure.
        let v = r.map_err(|e| TestCaseError::fail(format!("{name} [{backend}]: {e}")))?;
        let mut elem = vec![0.0f32; p.len()];
        l.value_elementwise(&p, &t, None, &mut elem).unwrap();
        let both = elem.contains(&f32::INFINITY) && elem.contains(&f32::NEG_INFINITY);
        prop_assert!(!v.is_nan() || both, "{} [{}] value NaN", name, backend);
        prop_assert!(
            g.iter().all(|x| !x.is_nan()),
            "{} [{}] grad NaN",
            name,
            backend
        );
        // Against the oracle where every term is moderate (no overflow in f32 terms).
        let terms: Vec<f64> = p
            .iter()
            .zip(&t)
            .map(|(&a, &b)| oracle(a as f64, b as f64))
            .collect();
        if terms.iter().all(|x| x.abs() < 1e30) {
            let want = terms.iter().sum::<f64>() / p.len() as f64;
            let mag = terms.iter().map(|x| x.abs()).sum::<f64>() / p.len() as f64;
            prop_assert!(
                ((v as f64) - want).abs() <= 1e-5 * mag + 1e-37,
                "{} [{}]: {} vs {}",
                name,
                backend,
                v,
                want
            );
        }
    }
    Ok(())
}

macro_rules! proptests {
    ($(($name:ident, $loss:expr, $oracle:expr, $domain:expr, $from:expr)),* $(,)?) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(
                std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256)
            ))]
            $(
                #[test]
                fn $name((p, t, bad) in case()) {
                    check(stringify!($name), $loss, $oracle, $domain, &p, &t, bad)?;
                }
            )*
        }
    };
}

losskit::for_each_pointwise_loss!(proptests);
