//! Repeated measurements and how they are reported: median with min and max.

use std::time::{Duration, Instant};

/// Samples of one quantity (seconds, bytes, ...), in the order taken.
#[derive(Clone, Debug, Default)]
pub struct Samples(pub Vec<f64>);

impl Samples {
    pub fn push(&mut self, x: f64) {
        self.0.push(x);
    }

    pub fn push_duration(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64());
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    fn sorted(&self) -> Vec<f64> {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    /// The middle sample (mean of the two middle ones for an even count).
    pub fn median(&self) -> f64 {
        let v = self.sorted();
        match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        }
    }

    pub fn min(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(f64::NAN)
    }

    pub fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN)
    }

    /// `median (min–max)` with `unit` formatting each number.
    pub fn show(&self, unit: Unit) -> String {
        format!(
            "{} ({}–{}, n={})",
            unit.fmt(self.median()),
            unit.fmt(self.min()),
            unit.fmt(self.max()),
            self.len()
        )
    }
}

/// How a number is printed.
#[derive(Clone, Copy, Debug)]
pub enum Unit {
    /// Seconds shown as milliseconds.
    Ms,
    /// Seconds shown as seconds.
    S,
    /// Bytes shown as MB (10^6).
    Mb,
    /// Bytes per second shown as MB/s.
    MbPerS,
}

impl Unit {
    pub fn fmt(self, x: f64) -> String {
        match self {
            Unit::Ms if x * 1e3 < 10.0 => format!("{:.2} ms", x * 1e3),
            Unit::Ms => format!("{:.1} ms", x * 1e3),
            Unit::S => format!("{x:.2} s"),
            Unit::Mb => format!("{:.1} MB", x / 1e6),
            Unit::MbPerS => format!("{:.0} MB/s", x / 1e6),
        }
    }
}

/// Runs `f` and returns its result with how long it took.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

/// `a / b` as `1.23×`.
pub fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 && a.is_finite() {
        format!("{:.2}×", a / b)
    } else {
        "n/a".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_min_max() {
        let s = Samples(vec![3.0, 1.0, 2.0, 10.0]);
        assert_eq!(s.median(), 2.5);
        assert_eq!(s.min(), 1.0);
        assert_eq!(s.max(), 10.0);
        assert_eq!(Samples(vec![5.0, 1.0, 3.0]).median(), 3.0);
        assert!(Samples::default().median().is_nan());
    }

    #[test]
    fn units_and_ratios() {
        assert_eq!(Unit::Ms.fmt(0.0042), "4.20 ms");
        assert_eq!(Unit::Mb.fmt(16_500_000.0), "16.5 MB");
        assert_eq!(ratio(3.0, 2.0), "1.50×");
        assert_eq!(ratio(1.0, 0.0), "n/a");
    }
}
