//! Decoding a fuzz input: small choices, sizes and real numbers biased toward the values
//! where losses break (±0, ±∞, NaN, subnormals, ±f32::MAX, ±1e38, ±1e8, the exponential's
//! overflow thresholds), from the bytes libFuzzer mutates. An exhausted input yields zeros
//! (the `arbitrary` convention), so every byte string decodes to some case.

use arbitrary::{Arbitrary, Unstructured};

/// The bytes of one case, consumed front to back.
pub struct Input<'a> {
    u: Unstructured<'a>,
}

/// Values every real input is drawn from part of the time (each also negated).
pub const SPECIAL: [f64; 30] = [
    0.0,
    f64::INFINITY,
    f64::NAN,
    1.0,
    0.5,
    2.0,
    1e-45, // the smallest f32 subnormal (rounded)
    1.0e-40,
    1.175_494_350_822_287_5e-38, // f32::MIN_POSITIVE
    5e-324,                      // the smallest f64 subnormal
    2.2250738585072014e-308,     // f64::MIN_POSITIVE
    1e-300,
    1e-20,
    1e-8,
    1e-3,
    3.402_823_466_385_288_6e38, // f32::MAX
    1e38,
    3e38,
    1e8,
    1e4,
    16.0,
    88.72,  // f32 exp overflows just above
    103.9,  // f32 exp underflows to 0 below −103.9
    709.78, // f64 exp overflows just above
    745.2,
    1e20,
    1e30,
    1e300,
    1.797_693_134_862_315_7e308, // f64::MAX
    core::f64::consts::LN_2,
];

impl<'a> Input<'a> {
    /// A case from `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input {
            u: Unstructured::new(data),
        }
    }

    /// One byte (0 once the input is exhausted).
    pub fn byte(&mut self) -> u8 {
        u8::arbitrary(&mut self.u).unwrap_or(0)
    }

    /// Uniform in `0..n` (0 for `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        self.u.int_in_range(0..=n - 1).unwrap_or(0)
    }

    /// True with probability about `k / 256`.
    pub fn chance(&mut self, k: u8) -> bool {
        self.byte() < k
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// A length: mostly up to `4·16 + 3` (every tail and unrolling of the widest lanes),
    /// sometimes around a block boundary of the pointwise driver (2048).
    pub fn len(&mut self, small: usize) -> usize {
        match self.byte() {
            0..=7 => 0,
            8..=15 => 2040 + self.below(16),
            16..=31 => self.below(4 * small + 1),
            _ => 1 + self.below(small),
        }
    }

    /// A real number, biased toward the special values.
    pub fn real(&mut self) -> f64 {
        let sign = |neg: bool, x: f64| if neg { -x } else { x };
        let k = self.byte();
        let neg = k & 1 == 1;
        match k >> 1 {
            // Moderate: a 16-bit fixed-point number in [−8, 8).
            0..=44 => {
                let raw = u16::arbitrary(&mut self.u).unwrap_or(0);
                f64::from(raw as i16) / 4096.0
            }
            45..=84 => sign(neg, self.pick(&SPECIAL)),
            85..=99 => {
                let e = self.below(2 * 308 + 1) as i32 - 308;
                sign(neg, 10f64.powi(e))
            }
            100..=107 => f64::from(f32::from_bits(u32::arbitrary(&mut self.u).unwrap_or(0))),
            108..=113 => f64::from_bits(u64::arbitrary(&mut self.u).unwrap_or(0)),
            // A neighbour of a special value.
            _ => {
                let x = sign(neg, self.pick(&SPECIAL));
                self.near(x)
            }
        }
    }

    /// `x`, or a close neighbour: a few f32 or f64 ulps away, or a relative step.
    pub fn near(&mut self, x: f64) -> f64 {
        match self.byte() % 8 {
            0 => x,
            1 => f64::from_bits(x.to_bits().wrapping_add(1 + self.below(3) as u64)),
            2 => f64::from_bits(x.to_bits().wrapping_sub(1 + self.below(3) as u64)),
            3 => {
                let f = x as f32;
                f64::from(f32::from_bits(f.to_bits().wrapping_add(1)))
            }
            4 => {
                let f = x as f32;
                f64::from(f32::from_bits(f.to_bits().wrapping_sub(1)))
            }
            5 => x * (1.0 + 1e-7),
            6 => x * (1.0 - 1e-7),
            _ => x + self.pick(&[1e-12, -1e-12, 1e-6, -1e-6, 1e-3, -1e-3]),
        }
    }

    /// A value of a real hyper-parameter: its default most of the time, else an
    /// interesting value (valid or not) or any real.
    pub fn param(&mut self, default: f64) -> f64 {
        const INTERESTING: [f64; 34] = [
            0.0,
            -0.0,
            1.0,
            0.5,
            0.25,
            0.9,
            1e-3,
            1e-8,
            1e-20,
            1e-30,
            1e-38,
            1e-40,
            1e-45,
            1e-300,
            1e8,
            1e30,
            1e38,
            1e300,
            -1.0,
            -0.5,
            -2.0,
            2.0,
            1.5,
            1.0001,
            1.9999,
            3.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            3.402_823_466_385_288_6e38,
            18_446_744_073_709_551_616.0, // 2^64
            -18_446_744_073_709_551_616.0,
            9_223_372_036_854_775_808.0, // 2^63
            1.084_202_172_485_504_4e-19, // 2^-63
        ];
        match self.byte() {
            0..=127 => default,
            128..=207 => self.pick(&INTERESTING),
            208..=231 => {
                let x = self.pick(&INTERESTING);
                self.near(x)
            }
            _ => self.real(),
        }
    }
}
